#include "category_tree.h"

#include <stdexcept>
#include <utility>

#include "keys.h"
#include "product_rules.h"

namespace pavilion::catalog {

using events::svc_errc;

namespace {

bool ValidCode(std::string_view code) {
  if (code.empty() || code.size() > 40 || code[0] < 'a' || code[0] > 'z') return false;
  for (char c : code) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Category FromEvent(const events::schema::CategorySet& e) {
  return {e.code, e.name, e.parent, e.agricultural, e.needs_sc, 0};
}

}  // namespace

std::shared_ptr<const CategoryTree> CategoryTree::Defaults() {
  static const std::shared_ptr<const CategoryTree> kDefaults = [] {
    std::shared_ptr<const CategoryTree> tree = std::make_shared<CategoryTree>();
    for (const auto& c : events::schema::DefaultCategories()) {
      tree = tree->With(FromEvent(c));
    }
    return tree;
  }();
  return kDefaults;
}

const Category* CategoryTree::Find(std::string_view code) const {
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : &it->second;
}

std::vector<Category> CategoryTree::List() const {
  std::map<std::string, std::vector<const Category*>> children;  // Parent → children by code.
  for (const auto& [code, c] : by_code_) children[c.parent].push_back(&c);
  std::vector<Category> out;
  out.reserve(by_code_.size());
  // Depth-first from the top level; the depth bound keeps a corrupt store from looping.
  auto visit = [&](auto& self, const std::string& parent, int depth) -> void {
    if (depth > CatalogService::kMaxCategoryDepth) return;
    auto it = children.find(parent);
    if (it == children.end()) return;
    for (const Category* c : it->second) {
      out.push_back(*c);
      self(self, c->code, depth + 1);
    }
  };
  visit(visit, "", 0);
  return out;
}

std::string CategoryTree::Codes() const {
  std::string out;
  for (const auto& c : List()) out += (out.empty() ? "" : ", ") + c.code;
  return out;
}

int CategoryTree::DepthOf(const std::string& code) const {
  int depth = 0;
  for (const Category* c = Find(code); c != nullptr && !c->parent.empty(); c = Find(c->parent)) {
    if (++depth > static_cast<int>(by_code_.size())) break;  // A cycle: never from Check.
  }
  return depth;
}

Result<Category> CategoryTree::Check(const CategoryInput& in) const {
  if (!ValidCode(in.code)) {
    return {svc_errc::invalid_argument,
            "code: use 1 to 40 lowercase letters, digits or _, starting with a letter"};
  }
  const Category* old = Find(in.code);
  Category c = old ? *old : Category{in.code, "", "", false, false, 0};
  if (in.name) {
    if (!ValidText(*in.name, 100)) return {svc_errc::invalid_argument, "name: 1 to 100 bytes"};
    if (auto bad = ControlCharacter("name", *in.name); !bad.empty()) {
      return {svc_errc::invalid_argument, std::move(bad)};
    }
    c.name = *in.name;
  } else if (!old) {
    return {svc_errc::invalid_argument, "name: give a new category its name (1 to 100 bytes)"};
  }
  if (!old && by_code_.size() >= CatalogService::kMaxCategories) {
    return {svc_errc::invalid_argument, "code: the tree holds its most, " +
                                            std::to_string(CatalogService::kMaxCategories) +
                                            " categories; file products under an existing one"};
  }
  if (in.parent) c.parent = *in.parent;
  const Category* parent = nullptr;
  if (!c.parent.empty()) {
    parent = Find(c.parent);
    if (parent == nullptr) {
      return {svc_errc::invalid_argument, "parent: no category " + c.parent + "; use one of " +
                                              Codes() + ", or \"\" for the top level"};
    }
    for (const Category* p = parent; p != nullptr;
         p = p->parent.empty() ? nullptr : Find(p->parent)) {
      if (p->code == c.code) {
        return {svc_errc::invalid_argument,
                "parent: " + c.parent + " is " +
                    (c.parent == c.code ? "the category itself" : "below " + c.code) +
                    "; a category cannot sit under itself"};
      }
    }
  }
  // Moving a category moves what is below it: the deepest of them must stay within the bound.
  int below = 0;
  if (old) {
    for (const auto& [code, d] : by_code_) {
      int steps = 0;
      for (const Category* p = &d; p != nullptr && steps <= CatalogService::kMaxCategoryDepth;
           p = p->parent.empty() ? nullptr : Find(p->parent), ++steps) {
        if (p->code == c.code) {
          below = std::max(below, steps);
          break;
        }
      }
    }
  }
  c.depth = parent ? DepthOf(parent->code) + 1 : 0;
  if (c.depth + below >= CatalogService::kMaxCategoryDepth) {
    return {svc_errc::invalid_argument, "parent: the tree is at most " +
                                            std::to_string(CatalogService::kMaxCategoryDepth) +
                                            " levels deep; put " + c.code + " higher"};
  }
  c.agricultural =
      in.agricultural.value_or(old ? old->agricultural : parent && parent->agricultural);
  c.needs_sc = in.needs_sc.value_or(old ? old->needs_sc : parent && parent->needs_sc);
  return c;
}

std::shared_ptr<const CategoryTree> CategoryTree::With(const Category& c) const {
  auto next = std::make_shared<CategoryTree>(*this);
  next->by_code_[c.code] = c;
  for (auto& [code, d] : next->by_code_) d.depth = next->DepthOf(code);
  return next;
}

CategoryBook::CategoryBook(storage::KvStore& kv) : tree_(CategoryTree::Defaults()) {
  const std::string begin(keys::kCategoryPrefix);
  std::shared_ptr<const CategoryTree> tree = tree_;
  bool decoded = true;
  auto ec = kv.Scan(begin, storage::PrefixEnd(begin), [&](std::string_view, std::string_view v) {
    auto e = events::Decode<events::schema::CategorySet>(v);
    decoded = e.ok();
    if (decoded) tree = tree->With(FromEvent(*e));
    return decoded;
  });
  if (ec) throw std::runtime_error("catalog: cannot read the categories: " + ec.message());
  if (!decoded) throw std::runtime_error("catalog: a stored category does not decode");
  tree_ = std::move(tree);
}

std::shared_ptr<const CategoryTree> CategoryBook::Current() const {
  std::lock_guard lock(mu_);
  return tree_;
}

void CategoryBook::Set(std::shared_ptr<const CategoryTree> tree) {
  std::lock_guard lock(mu_);
  tree_ = std::move(tree);
}

}  // namespace pavilion::catalog
