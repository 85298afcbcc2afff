// CategoryTree: the categories products are filed under — a small tree of county specialties,
// each with its agricultural flag (the plans count 农产品网络零售额 apart) and whether it is
// processed food that needs an SC licence. The defaults are built in (Defaults()); operators add
// categories and change them (CategoryTree::Check, event category.set), which the catalog keeps
// under keys::Category and lays over the defaults at start.
//
// A tree is an immutable value. CategoryBook holds the current one for every thread: the catalog
// worker replaces it after a change, the gateway and pack preparation read it on their own
// threads. Thread-safety: CategoryTree is immutable; CategoryBook is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::catalog {

class CategoryTree {
 public:
  // The built-in tree: fresh produce, processed farm products, herbs (agricultural), handicraft
  // and other (not).
  static std::shared_ptr<const CategoryTree> Defaults();

  const Category* Find(std::string_view code) const;
  // Parents before their children, siblings by code.
  std::vector<Category> List() const;
  // "fresh, fruit, …" for messages that say what to use.
  std::string Codes() const;

  // The rule: the category `in` makes of this tree, or what is wrong (invalid_argument, the
  // message starting with the field). Pure.
  Result<Category> Check(const CategoryInput& in) const;
  // This tree with `c` added or replaced (c checked by Check, or read back from the store).
  std::shared_ptr<const CategoryTree> With(const Category& c) const;

 private:
  int DepthOf(const std::string& code) const;
  std::map<std::string, Category, std::less<>> by_code_;
};

class CategoryBook {
 public:
  // The defaults with every category.set the catalog stored (keys::kCategoryPrefix) laid over.
  explicit CategoryBook(storage::KvStore& kv);
  std::shared_ptr<const CategoryTree> Current() const;
  void Set(std::shared_ptr<const CategoryTree> tree);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const CategoryTree> tree_;
};

}  // namespace pavilion::catalog
