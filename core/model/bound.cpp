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
  std::vector<Message> pending;
  auto detach_children = [&pending](Message& message) {
    for (Field& field : message.fields) {
      for (Message& child : field.messages) pending.push_back(std::move(child));
    }
    message.fields.clear();
  };
  detach_children(root);
  while (!pending.empty()) {
    Message message = std::move(pending.back());
    pending.pop_back();
    detach_children(message);
  }
}

}  // namespace amct::model
