# SQL stored as SQL: services/<dir>/<file>.sql beside the C++ file that runs its statements.
#
# maillon_sql_queries(<target> <file.sql>...): at build time, each .sql file becomes the header
# ${CMAKE_BINARY_DIR}/sql/<path from the repository root without .sql>_sql.hpp (e.g.
# services/exchange/repository.sql -> sql/services/exchange/repository_sql.hpp), which its C++
# file includes as "services/exchange/repository_sql.hpp". The target gets the headers as
# sources (built before its objects) and ${CMAKE_BINARY_DIR}/sql as a PUBLIC include directory
# (a header of a library may include one). A header depends on its .sql file and on the
# generator (cmake/sql_header.cmake, run with `cmake -P`: no other tool), so editing a .sql file
# regenerates its header alone and recompiles what includes it. sql_header.cmake describes the
# file's format and fails the build on a malformed one, naming the file and the line.
set(MAILLON_SQL_HEADER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/sql_header.cmake)

function(maillon_sql_queries target)
  set(headers "")
  foreach(sql ${ARGN})
    get_filename_component(sql ${sql} ABSOLUTE)
    file(RELATIVE_PATH relative ${MAILLON_SOURCE_DIR} ${sql})
    string(REGEX REPLACE "\\.sql$" "_sql.hpp" header_relative ${relative})
    set(header ${CMAKE_BINARY_DIR}/sql/${header_relative})
    add_custom_command(
      OUTPUT ${header}
      COMMAND ${CMAKE_COMMAND} -DSQL=${sql} -DHEADER=${header} -DSOURCE_NAME=${relative}
              -P ${MAILLON_SQL_HEADER_SCRIPT}
      DEPENDS ${sql} ${MAILLON_SQL_HEADER_SCRIPT}
      COMMENT "Generating ${header_relative} from ${relative}"
      VERBATIM)
    list(APPEND headers ${header})
  endforeach()
  target_sources(${target} PRIVATE ${headers})
  target_include_directories(${target} PUBLIC ${CMAKE_BINARY_DIR}/sql)
endfunction()
