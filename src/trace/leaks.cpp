// Reference chains, retained sizes and type growth (see ouro/trace/leaks.h). The graph is
// read once per call through the public gc API into raw-pointer adjacency lists; every
// object in it stays alive meanwhile because `all` holds a Ref to each tracked object and
// untracked ones are held by those.
#include "ouro/trace/leaks.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "ouro/core/gc.h"
#include "ouro/core/runtime.h"

namespace ouro::trace {

namespace {

struct Graph {
  std::vector<Ref<Object>> all;                             // tracked objects (+1 each)
  std::unordered_map<Object*, std::vector<Object*>> edges;  // strong references
  std::unordered_map<Object*, std::uint32_t> internal;      // references from containers
  std::unordered_set<Object*> tracked;

  explicit Graph(Heap& heap) : all(gc::get_objects(std::nullopt, heap)) {
    for (const Ref<Object>& o : all) {
      tracked.insert(o.get());
      auto referents = gc::get_referents(std::span<const Ref<Object>>(&o, 1));
      auto& out = edges[o.get()];
      for (const Ref<Object>& r : referents) {
        out.push_back(r.get());
        ++internal[r.get()];
      }
    }  // each referents vector is gone before the next refcount is read
  }

  /// References from outside the heap, with `extra_held` references held by the caller.
  std::int64_t external(Object* o, std::uint32_t extra_held) const {
    const auto it = internal.find(o);
    const std::int64_t inside = it == internal.end() ? 0 : it->second;
    const std::int64_t ours = (tracked.contains(o) ? 1 : 0) + extra_held;
    return static_cast<std::int64_t>(o->refcount()) - inside - ours;
  }

  const std::vector<Object*>& out(Object* o) const {
    static const std::vector<Object*> none;
    const auto it = edges.find(o);
    return it == edges.end() ? none : it->second;
  }
};

}  // namespace

std::vector<Ref<Object>> find_roots(Heap& heap) {
  Graph g(heap);
  std::vector<Ref<Object>> roots;
  for (const Ref<Object>& o : g.all) {
    if (g.external(o.get(), 0) > 0) roots.push_back(o);
  }
  return roots;
}

namespace detail {

std::vector<Ref<Object>> reference_chain_of(Object* goal) {
  Graph g(goal->heap());
  if (g.external(goal, 1) > 0) return {Ref<Object>::borrow(goal)};
  // Breadth-first from every root at once: the first arrival is a shortest chain.
  std::unordered_map<Object*, Object*> parent;
  std::deque<Object*> queue;
  for (const Ref<Object>& o : g.all) {
    if (o.get() != goal && g.external(o.get(), 0) > 0) {
      parent.emplace(o.get(), nullptr);
      queue.push_back(o.get());
    }
  }
  while (!queue.empty()) {
    Object* o = queue.front();
    queue.pop_front();
    if (o == goal) {
      std::vector<Ref<Object>> chain;
      for (Object* p = o; p != nullptr; p = parent[p]) chain.push_back(Ref<Object>::borrow(p));
      std::reverse(chain.begin(), chain.end());
      return chain;
    }
    for (Object* next : g.out(o)) {
      if (parent.emplace(next, o).second) queue.push_back(next);
    }
  }
  return {};
}

}  // namespace detail

namespace {

std::uint64_t retained_in(const Graph& g, Object* goal) {
  // What the roots reach without passing through the target stays alive.
  std::unordered_set<Object*> alive;
  std::vector<Object*> stack;
  for (const Ref<Object>& o : g.all) {
    if (o.get() != goal && g.external(o.get(), 0) > 0 && alive.insert(o.get()).second) {
      stack.push_back(o.get());
    }
  }
  while (!stack.empty()) {
    Object* o = stack.back();
    stack.pop_back();
    for (Object* next : g.out(o)) {
      if (next != goal && alive.insert(next).second) stack.push_back(next);
    }
  }
  std::unordered_set<Object*> freed{goal};
  stack.assign({goal});
  std::uint64_t bytes = getsizeof(*goal);
  while (!stack.empty()) {
    Object* o = stack.back();
    stack.pop_back();
    for (Object* next : g.out(o)) {
      if (!alive.contains(next) && freed.insert(next).second) {
        bytes += getsizeof(*next);
        stack.push_back(next);
      }
    }
  }
  return bytes;
}

}  // namespace

namespace detail {

std::uint64_t retained_size_of(Object* target) {
  Graph g(target->heap());
  return retained_in(g, target);
}

LeakRecord describe_leak_of(Object* target) {
  LeakRecord record;
  for (const Ref<Object>& o : reference_chain_of(target)) {
    record.steps.push_back({std::string(o->type_name()), getsizeof(*o)});
  }
  record.retained_bytes = retained_size_of(target);
  return record;
}

}  // namespace detail

std::vector<TypeGrowth> most_common_types(const Heap& heap, std::size_t limit) {
  std::vector<TypeGrowth> rows;
  for (const TypeCount& row : live_objects_by_type(heap)) {
    if (rows.size() == limit) break;
    rows.push_back({row.type, row.count, 0});
  }
  return rows;
}

GrowthTracker::GrowthTracker(const Heap& heap) : heap_(heap) {
  for (const TypeCount& row : live_objects_by_type(heap)) previous_[row.type] = row.count;
}

std::vector<TypeGrowth> GrowthTracker::growth(std::size_t limit) {
  std::map<std::string, std::size_t> now;
  for (const TypeCount& row : live_objects_by_type(heap_)) now[row.type] = row.count;
  std::vector<TypeGrowth> rows;
  for (const auto& [type, count] : now) {
    const auto it = previous_.find(type);
    const std::size_t before = it == previous_.end() ? 0 : it->second;
    if (count > before) {
      rows.push_back({type, count, static_cast<std::int64_t>(count - before)});
    }
  }
  // objgraph sorts by the rise, biggest first.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const TypeGrowth& a, const TypeGrowth& b) { return a.delta > b.delta; });
  if (rows.size() > limit) rows.resize(limit);
  previous_ = std::move(now);
  return rows;
}

std::string format_growth(const std::vector<TypeGrowth>& rows) {
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.type.size());
  std::string out;
  for (const auto& row : rows) {
    out += fmt::format("{:<{}}{:>9} {:>+9}\n", row.type, width, row.count, row.delta);
  }
  return out;
}

}  // namespace ouro::trace
