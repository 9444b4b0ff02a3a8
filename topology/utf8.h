// UTF-8 checks shared by every entry point that takes text from outside
// (imports, the command line, the HTTP API's audit entries).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lifeline::topology {

// Length of the UTF-8 sequence of a non-ASCII character starting at s[i], or
// 0 when it is malformed (overlong forms, surrogates and code points above
// U+10FFFF included).
size_t utf8_sequence_length(std::string_view s, size_t i);

bool valid_utf8(std::string_view s);

// s as it may be kept in a log or record: each malformed byte becomes U+FFFD,
// each control character a space, and it is cut at a character boundary to
// at most max_bytes (then ending in "…", counted in max_bytes).
std::string clean_text(std::string_view s, size_t max_bytes);

}  // namespace lifeline::topology
