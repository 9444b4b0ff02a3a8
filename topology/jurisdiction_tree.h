// JurisdictionTree: the administrative divisions known to a node, loaded from
// a divisions CSV (`code12,name,level,parent_code12`, header line first, the
// format of shared/data/huizhou_divisions.csv; extra trailing columns, as in
// guangdong_townships.csv, are ignored), with routing over the tree.
//
// Every row is checked: a valid code, a level that matches the code, a parent
// that is listed earlier or later in the file and whose code contains the
// child, no duplicate code, exactly one root per tree. A bad file is an error
// naming the line; the tree is then not built.
//
// Immutable after load: thread-safe for concurrent readers. Copyable.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "topology/division_code.h"
#include "topology/status.h"

namespace lifeline::topology {

struct Division {
  DivisionCode code;
  std::string name;               // e.g. 惠阳区
  Level level = Level::province;  // from the file, checked against the code
  DivisionCode parent;            // invalid for a root
  std::vector<DivisionCode> children;  // in file order
};

class JurisdictionTree {
 public:
  static Result<JurisdictionTree> load_csv_file(const std::string& path);
  static Result<JurisdictionTree> parse_csv(std::string_view text);

  // Adds one division (used by tests and the simulation to build trees in
  // code). The parent must already be present unless `parent` is invalid.
  Status add(DivisionCode code, std::string name, DivisionCode parent);

  size_t size() const { return divisions_.size(); }
  bool has(DivisionCode code) const { return divisions_.count(code) != 0; }
  // The division, or not_found.
  Result<Division> find(DivisionCode code) const;
  const Division* get(DivisionCode code) const;  // nullptr when absent
  // Codes of every division in `root`'s subtree (root first, depth-first in
  // file order). Empty when root is absent.
  std::vector<DivisionCode> subtree(DivisionCode root) const;
  // The path root → code inclusive; not_found for an unknown code.
  Result<std::vector<DivisionCode>> path_from_root(DivisionCode code) const;

  // The neighbour of `from` on the tree path toward `to`: `from` itself when
  // equal, the child of `from` whose subtree holds `to` when `from` contains
  // it, otherwise the parent of `from`. Errors: either code unknown, or `to`
  // outside every subtree reachable upward (different roots).
  Result<DivisionCode> next_hop(DivisionCode from, DivisionCode to) const;
  // The lowest common ancestor of a and b; errors as next_hop.
  Result<DivisionCode> lowest_common_ancestor(DivisionCode a, DivisionCode b) const;

 private:
  std::unordered_map<DivisionCode, Division> divisions_;  // every known division by code
  std::vector<DivisionCode> order_;                       // codes in insertion (file) order
};

}  // namespace lifeline::topology
