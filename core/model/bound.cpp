#include "core/model/bound.h"

namespace amct::model {

const Field* Message::find(std::string_view name) const {
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
    if (it->name == name) return &*it;
  }
  return nullptr;
}

std::vector<const Field*> Message::find_all(std::string_view name) const {
  std::vector<const Field*> found;
  for (const Field& field : fields) {
    if (field.name == name) found.push_back(&field);
  }
  return found;
}

}  // namespace amct::model
