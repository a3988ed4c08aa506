// Text made safe inside HTML (element content and quoted attribute values): what a member wrote
// (a name, a listing title) goes into a mail's HTML part through this, never as markup.
#pragma once

#include <string>
#include <string_view>

namespace maillon {

std::string html_escaped(std::string_view text);

}  // namespace maillon
