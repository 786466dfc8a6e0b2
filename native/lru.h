// A small least-recently-used cache. Sizes here are tiny (tens of entries), so a list + map is
// simple and fast enough.
#pragma once
#include <cstddef>
#include <list>
#include <unordered_map>
#include <utility>

namespace vaat {

template <typename K, typename V>
class Lru {
 public:
  explicit Lru(size_t capacity) : capacity_(capacity) {}

  // Returns the cached value or nullptr; a hit becomes the most recently used entry.
  V* get(const K& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // Inserts (or replaces) and returns the stored value, evicting the least recently used.
  V& put(const K& key, V value) {
    auto it = map_.find(key);
    if (it != map_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return it->second->second;
    }
    if (map_.size() >= capacity_ && !order_.empty()) {
      // Reuse the evicted node's storage when possible (saves an allocation per page).
      auto last = std::prev(order_.end());
      map_.erase(last->first);
      last->first = key;
      last->second = std::move(value);
      order_.splice(order_.begin(), order_, last);
    } else {
      order_.emplace_front(key, std::move(value));
    }
    map_[key] = order_.begin();
    return order_.begin()->second;
  }

  // The (most recently used) entry for a key not in the cache, for the caller to fill in place:
  // when full, the least recently used entry is recycled with its old value, so a cache of
  // page buffers reuses their storage instead of allocating a page per miss.
  // `evicted`, when given, receives the key recycled (and is left alone when none was).
  V& recycle(const K& key, K* evicted = nullptr) {
    if (map_.size() >= capacity_ && !order_.empty()) {
      auto last = std::prev(order_.end());
      if (evicted) *evicted = last->first;
      map_.erase(last->first);
      last->first = key;
      order_.splice(order_.begin(), order_, last);
    } else {
      order_.emplace_front(key, V{});
    }
    map_[key] = order_.begin();
    return order_.begin()->second;
  }

  // Drops a key (e.g. an entry whose filling failed).
  void erase(const K& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    order_.erase(it->second);
    map_.erase(it);
  }

  // More room: entries are evicted only once the cache holds `capacity` (never shrinks).
  void grow(size_t capacity) { if (capacity > capacity_) capacity_ = capacity; }

  void clear() { map_.clear(); order_.clear(); }
  size_t size() const { return map_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::list<std::pair<K, V>> order_;
  std::unordered_map<K, typename std::list<std::pair<K, V>>::iterator> map_;
};

}  // namespace vaat
