#pragma once
// Which language the parameter docs are shown in (setting amct.docsLanguage,
// or the client's locale when it is "auto").
#include <string_view>

namespace amct::ide {

enum class DocsLanguage { English, Chinese };

// "zh", "en", or "auto" with the client's locale ("zh-cn", "en-us", ...).
DocsLanguage docs_language(std::string_view setting, std::string_view client_locale);

}  // namespace amct::ide
