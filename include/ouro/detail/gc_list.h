// The collector's intrusive lists: GcLinks in front of every container and the circular,
// doubly linked lists with a sentinel that hold them (generations, a collection's working
// lists). Inline because make<T>'s fast path links a new container without a call.
#pragma once

#include <cstddef>

namespace ouro::detail {

/// The collector's links, placed immediately *before* every container object (CPython's
/// PyGC_Head). State of the fields (keeps the membership rule of src/core/collector.cpp):
///
///   | when                          | prev                      | next                 |
///   |-------------------------------|---------------------------|----------------------|
///   | untracked                     | nullptr                   | nullptr              |
///   | tracked, between collections  | previous node in its list | next node in list    |
///   | collecting (update_refs ..    | gc_refs, an integer, not  | next node in list    |
///   |   move_unreachable reaches it)| a pointer (flag kCollecting)|                    |
///   | unreachable list              | previous node             | next node            |
///   | in the trashcan's deferred    | unused                    | next deferred object |
///   |   list (refcount already 0)   |                           |                      |
struct GcLinks {
  GcLinks* prev;  // see the table: a link, or gc_refs while collecting
  GcLinks* next;
};

/// Sentinel of a circular doubly linked list of GcLinks.
struct GcList {
  GcLinks head;
  GcList() noexcept { head.prev = head.next = &head; }
  GcList(const GcList&) = delete;
  GcList& operator=(const GcList&) = delete;
  bool empty() const noexcept { return head.next == &head; }
};

// List primitives (circular, doubly linked, with a sentinel), shared by make<T>'s tracking,
// dealloc, the collector and the weak-reference step.
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
