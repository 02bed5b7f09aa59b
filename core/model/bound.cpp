#include "core/model/bound.h"

#include "core/model/binder.h"

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

BoundDocument::~BoundDocument() {
  // Every message, parents before children, then emptied from the last:
  // each one's children are already empty when it is, so nothing recurses.
  std::vector<Message*> messages{&root};
  for (size_t next = 0; next < messages.size(); ++next) {
    for (Field& field : messages[next]->fields) {
      for (Message& child : field.messages) messages.push_back(&child);
    }
  }
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) (*it)->fields.clear();
}

}  // namespace amct::model
