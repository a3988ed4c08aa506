# cmake -DSQL=<file.sql> -DHEADER=<out.hpp> -DSOURCE_NAME=<shown name> -P sql_header.cmake
#
# Turns a services/ .sql file into the C++ header of its named statements (maillon_sql_queries in
# sql_queries.cmake runs it at build time). The .sql file:
#
#   -- namespace: maillon::exchange::repo   the C++ namespace of the constants (before any name)
#   -- linkage: file-local                   file-local (an anonymous namespace: one .cpp includes
#                                            the header) or inline (a header shared by several)
#   -- name: kLockListing                    starts a statement: the constant's name
#   -- comment lines, kept in the .sql only
#   SELECT 1
#   FROM listings
#   WHERE id = $1
#   FOR UPDATE;                              a line ending in `;` followed by a blank line, the
#                                            next `-- name:` or the end ends the statement
#
# The constant holds the statement's lines as written, without the `--` lines and the final `;`,
# between a leading and a trailing newline (so that fragments, a column list or a WHERE clause,
# concatenate safely): `constexpr const char* kLockListing = R"sql(...)sql";`. A `;` at the end of
# a line followed by more SQL stays (two statements sent in one round trip). A statement without
# a name, a name given twice, a name that is not a C++ identifier or an unfinished statement fails
# with the file and the line.
cmake_minimum_required(VERSION 3.20)

foreach(var SQL HEADER SOURCE_NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "sql_header.cmake: -D${var}=... is missing")
  endif()
endforeach()

file(READ "${SQL}" content)
string(REPLACE "\r\n" "\n" content "${content}")
if(NOT content MATCHES "\n$")
  string(APPEND content "\n")
endif()

set(namespace "")
set(linkage "file-local")
set(names "")
set(body "")
set(in_statement FALSE)   # inside a statement's SQL lines
set(ended FALSE)          # the last SQL line ended in `;`
set(name "")
set(name_line 0)
set(text "")
set(line_no 0)

function(fail line message)
  message(FATAL_ERROR "${SOURCE_NAME}:${line}: ${message}")
endfunction()

# Appends the finished statement to `body`.
macro(finish_statement)
  if(NOT name STREQUAL "")
    if(text STREQUAL "")
      fail(${name_line} "statement ${name} has no SQL")
    endif()
    if(NOT ended)
      fail(${name_line} "statement ${name} does not end with `;` (at the end of a line)")
    endif()
    string(REGEX REPLACE ";[ \t]*$" "" text "${text}")
    string(FIND "${text}" ")sql\"" delimiter)
    if(NOT delimiter EQUAL -1)
      fail(${name_line} "statement ${name} contains )sql\", the end of the C++ raw string")
    endif()
    if(linkage STREQUAL "inline")
      set(prefix "inline constexpr")
    else()
      set(prefix "constexpr")
    endif()
    if(NOT body STREQUAL "")
      string(APPEND body "\n")
    endif()
    string(APPEND body "${prefix} const char* ${name} = R\"sql(\n${text}\n)sql\";\n")
  endif()
  set(name "")
  set(text "")
  set(in_statement FALSE)
  set(ended FALSE)
endmacro()

# Line by line, without CMake lists (SQL holds `;` and brackets).
set(position 0)
string(LENGTH "${content}" length)
while(position LESS length)
  string(SUBSTRING "${content}" ${position} -1 rest)
  string(FIND "${rest}" "\n" newline)
  string(SUBSTRING "${rest}" 0 ${newline} line)
  math(EXPR position "${position} + ${newline} + 1")
  math(EXPR line_no "${line_no} + 1")
  string(STRIP "${line}" stripped)

  if(stripped MATCHES "^--[ \t]*name:(.*)$")
    set(next_name "${CMAKE_MATCH_1}")
    finish_statement()
    string(STRIP "${next_name}" name)
    if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
      fail(${line_no} "`${name}` is not a C++ name")
    endif()
    if("|${name}|" IN_LIST names)
      list(FIND names "|${name}|" first)
      list(GET name_lines ${first} first_line)
      fail(${line_no} "${name} is named twice (first at line ${first_line})")
    endif()
    list(APPEND names "|${name}|")
    list(APPEND name_lines ${line_no})
    set(name_line ${line_no})
    continue()
  endif()
  if(stripped MATCHES "^--[ \t]*(namespace|linkage):(.*)$")
    if(NOT names STREQUAL "")
      fail(${line_no} "`-- ${CMAKE_MATCH_1}:` must come before the first `-- name:`")
    endif()
    string(STRIP "${CMAKE_MATCH_2}" value)
    if(CMAKE_MATCH_1 STREQUAL "namespace")
      if(NOT value MATCHES "^([A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*)?$")
        fail(${line_no} "`${value}` is not a C++ namespace")
      endif()
      set(namespace "${value}")
    elseif(value STREQUAL "file-local" OR value STREQUAL "inline")
      set(linkage "${value}")
    else()
      fail(${line_no} "linkage is file-local or inline, not `${value}`")
    endif()
    continue()
  endif()
  if(stripped MATCHES "^--")
    continue()  # a comment: the .sql's only
  endif()
  if(stripped STREQUAL "")
    if(in_statement AND ended)
      finish_statement()  # a statement ends at a `;` line followed by a blank line
    endif()
    if(in_statement)
      fail(${line_no} "blank line inside statement ${name}, which does not end with `;` yet")
    endif()
    continue()
  endif()

  # A line of SQL.
  if(name STREQUAL "")
    fail(${line_no} "a statement without a `-- name:` line above it")
  endif()
  if(in_statement)
    string(APPEND text "\n${line}")
  else()
    set(text "${line}")
    set(in_statement TRUE)
  endif()
  if(stripped MATCHES ";$")
    set(ended TRUE)
  else()
    set(ended FALSE)
  endif()
endwhile()

finish_statement()
if(names STREQUAL "")
  fail(1 "no statement (each starts with a `-- name: kName` line)")
endif()

if(linkage STREQUAL "inline")
  set(open "")
  set(close "")
else()
  set(open "namespace {\n\n")
  set(close "\n}  // namespace\n")
endif()
set(header "// Generated at build time from ${SOURCE_NAME} by cmake/sql_header.cmake: edit that file.\n")
string(APPEND header "#pragma once\n\n")
if(NOT namespace STREQUAL "")
  string(APPEND header "namespace ${namespace} {\n")
  if(NOT open STREQUAL "")
    string(APPEND header "\n")
  endif()
endif()
string(APPEND header "${open}${body}${close}")
if(NOT namespace STREQUAL "")
  string(APPEND header "}  // namespace ${namespace}\n")
endif()
# Written only when it changes: an edit of the .sql file's comments or of this script leaves the
# header's time alone, and the Ninja build (restat) recompiles nothing.
set(current "")
if(EXISTS "${HEADER}")
  file(READ "${HEADER}" current)
endif()
if(NOT current STREQUAL header)
  file(WRITE "${HEADER}" "${header}")
endif()
