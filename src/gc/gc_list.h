// The collector's list primitives on GcLinks (circular, doubly linked, with a sentinel),
// shared by the collector and the weak-reference step it calls.
#pragma once

#include "ouro/detail/runtime.h"

namespace ouro::detail {

inline void gc_list_append(GcLinks* node, GcList& list) noexcept {
  GcLinks* last = list.head.prev;
  last->next = node;
  node->prev = last;
  node->next = &list.head;
  list.head.prev = node;
}

inline void gc_list_remove(GcLinks* node) noexcept {
  node->prev->next = node->next;
  node->next->prev = node->prev;
}

inline void gc_list_move(GcLinks* node, GcList& to) noexcept {
  gc_list_remove(node);
  gc_list_append(node, to);
}

/// Appends all of `from` to `to`; `from` ends empty.
inline void gc_list_merge(GcList& from, GcList& to) noexcept {
  if (from.empty()) return;
  GcLinks* to_last = to.head.prev;
  GcLinks* first = from.head.next;
  GcLinks* last = from.head.prev;
  to_last->next = first;
  first->prev = to_last;
  last->next = &to.head;
  to.head.prev = last;
  from.head.next = from.head.prev = &from.head;
}

inline std::size_t gc_list_size(const GcList& list) noexcept {
  std::size_t n = 0;
  for (const GcLinks* l = list.head.next; l != &list.head; l = l->next) ++n;
  return n;
}

}  // namespace ouro::detail
