// Structured logs: one JSON object per line on stderr, with the request id when there is one.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace maillon::log {

using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;

void set_service(std::string name);
const std::string& service();
void info(std::string_view message, Fields fields = {});
void warn(std::string_view message, Fields fields = {});
void error(std::string_view message, Fields fields = {});

// The request id of the request being handled on this thread ("" outside a request).
void set_request_id(std::string id);
const std::string& request_id();

}  // namespace maillon::log
