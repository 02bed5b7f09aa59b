#include "core/ide/docs_language.h"

namespace amct::ide {

DocsLanguage docs_language(std::string_view setting, std::string_view client_locale) {
  if (setting == "zh") return DocsLanguage::Chinese;
  if (setting == "en") return DocsLanguage::English;
  return client_locale.starts_with("zh") ? DocsLanguage::Chinese : DocsLanguage::English;
}

}  // namespace amct::ide
