// Routing over a node's configured neighbours: where a message for a
// destination goes next from this node. Unlike JurisdictionTree::next_hop,
// which routes over every known division, this knows only the nodes that
// actually run: a destination inside this node's jurisdiction with no
// running child above it is delivered here (its home node, DESIGN §3.4).
//
// Immutable value type; thread-safe; copyable.
#pragma once

#include <optional>
#include <vector>

#include "topology/division_code.h"

namespace lifeline::topology {

struct Route {
  enum class Kind { kLocal, kParent, kChild, kNone };
  Kind kind = Kind::kNone;
  DivisionCode next;  // the neighbour for kParent / kChild; self for kLocal
};

class Neighbourhood {
 public:
  Neighbourhood(DivisionCode self, std::optional<DivisionCode> parent, std::vector<DivisionCode> children)
      : self_(self), parent_(parent), children_(std::move(children)) {}

  DivisionCode self() const { return self_; }
  const std::optional<DivisionCode>& parent() const { return parent_; }
  const std::vector<DivisionCode>& children() const { return children_; }

  // kLocal when this node is the lowest running node containing destination;
  // kChild toward the child containing it; kParent when outside this node's
  // jurisdiction; kNone when outside and there is no parent (a root).
  Route route(DivisionCode destination) const {
    if (self_.contains(destination)) {
      for (DivisionCode c : children_) {
        if (c.contains(destination)) return Route{Route::Kind::kChild, c};
      }
      return Route{Route::Kind::kLocal, self_};
    }
    if (parent_) return Route{Route::Kind::kParent, *parent_};
    return Route{Route::Kind::kNone, DivisionCode()};
  }

  bool is_child(DivisionCode code) const {
    for (DivisionCode c : children_) {
      if (c == code) return true;
    }
    return false;
  }

 private:
  DivisionCode self_;                   // this node
  std::optional<DivisionCode> parent_;  // absent at the root
  std::vector<DivisionCode> children_;  // configured children
};

}  // namespace lifeline::topology
