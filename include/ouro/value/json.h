// Conversion between ouro values and JSON (nlohmann::json). JSON's own types map directly;
// Python types JSON lacks become one-key objects whose key starts with '$', so every value
// survives a round trip (docs/values.md has the table):
//
//     None -> null        bool -> true/false      int -> number (or {"$int": "digits"}
//     str -> string       list -> array             beyond int64/uint64)
//     str with lone surrogates (not valid JSON text) -> {"$str": "<base64 of its UTF-8>"}
//     float -> number, or {"$float": "nan" | "inf" | "-inf"}
//     dict with only str keys, none starting with '$' -> object; other dicts ->
//         {"$dict": [[key, value], ...]}
//     tuple -> {"$tuple": [...]}     set -> {"$set": [...]}   frozenset -> {"$frozenset": [...]}
//     bytes -> {"$bytes": "<base64>"}  bytearray -> {"$bytearray": "<base64>"}
//     Global -> {"$global": ["module", "qualname"]}
//     Instance -> {"$instance": {"class": ..., "state": ...}}
//     Reduce -> {"$reduce": {"callable", "args", "state", "listitems", "dictitems"}}
//
// Objects keep the dict's insertion order: the JSON type is nlohmann::ordered_json
// (ouro::Json), as Python's json.dumps keeps it; from_json also accepts a plain
// nlohmann::json (whose objects come sorted by key).
// Shared objects are written once per occurrence (JSON has no references); a recursive
// structure throws ValueError("Circular reference detected"), as Python's json does.
#pragma once

#include <nlohmann/json.hpp>

#include "ouro/value/value.h"

namespace ouro {

/// The JSON document type of the value layer: nlohmann's, with object keys in insertion order.
using Json = nlohmann::ordered_json;

/// The JSON form of `v` (see the mapping above). Throws ValueError for a recursive
/// structure, RecursionError past recursion_limit(), TypeError for a managed object of
/// a non-value type.
///
///     ouro::to_json(ouro::dict({{"a", ouro::tuple({1, 2})}})).dump()
///         == R"({"a":{"$tuple":[1,2]}})"
Json to_json(const Value& v);

/// The value of a JSON document, in `heap` (the inverse of to_json). Throws ValueError for
/// a malformed '$' form, MemoryError.
///
///     ouro::Value v = ouro::from_json(heap, ouro::Json::parse("[1, 2.5, null]"));
Value from_json(Heap& heap, const Json& j);
/// The same from a plain nlohmann::json.
Value from_json(Heap& heap, const nlohmann::json& j);

}  // namespace ouro
