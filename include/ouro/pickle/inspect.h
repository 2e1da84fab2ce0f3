// ouro::pickle::inspect_text / inspect_json: the object tree of a loaded pickle, for
// `ouro pickle show --inspect` (docs/pickle.md, "Inspecting a pickle"). Where repr() of an
// inert instance says only `<sklearn...RandomForestClassifier object>`, the tree shows what
// the pickle holds: instances with their BUILD state (attributes), list, tuple, set and dict
// items, reduce calls with their arguments and extras, numpy arrays as dtype, shape and
// first values, torch tensors as their storage reference, dtype, shape and strides. It is
// bounded (depth, items per container, nodes in all) and deterministic: no addresses; an
// object met again is shown once and referred to by its number (#n). Host-only.
#pragma once

#include <cstddef>
#include <string>

#include "ouro/pickle/pickle.h"  // first: its templates name ouro::detail as detail::
#include "ouro/value/value.h"

namespace ouro::pickle {

/// How much of the tree to show.
struct InspectOptions {
  std::size_t max_depth = 6;      ///< levels below the root; deeper containers are elided
  std::size_t max_items = 20;     ///< items shown per container, then "… N more"
  std::size_t max_nodes = 20000;  ///< nodes in all: the tree's size whatever the input
  std::size_t max_text = 80;      ///< characters of a leaf's repr before "…"
  std::size_t first_values = 6;   ///< elements shown of an array
};

/// The tree as indented text, one node a line, ending with a newline:
///
///     sklearn.ensemble._forest.RandomForestClassifier instance #1
///       .n_estimators: 10
///       .estimators_: list, 10 items
///         [0]: sklearn.tree._classes.DecisionTreeClassifier instance
///         …
///       .classes_: ndarray int64 shape (2,): [0, 1]
std::string inspect_text(const Value& v, const InspectOptions& options = {});

/// The same tree as JSON (docs/pickle.md gives the schema): one object per node with
/// "kind" and, by kind, "repr", "length", "items", "more", "class", "state", "callable",
/// "args", "dtype", "shape", "first", "id", "ref".
std::string inspect_json(const Value& v, const InspectOptions& options = {}, int indent = 1);

}  // namespace ouro::pickle
