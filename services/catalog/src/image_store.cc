#include "image_store.h"

#include <openssl/sha.h>

#include "keys.h"
#include "product_rules.h"
#include "product_store.h"

namespace pavilion::catalog {

using events::svc_errc;

bool ImageStore::Known(const std::string& ref) {
  return images_.count(ref) || Stored(store_, keys::Image(ref));
}

Result<std::string> ImageStore::Store(const std::string& bytes, events::Transaction& tx) {
  auto type = CheckImage(bytes);
  if (!type.ok()) return type.error_detail();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  std::string ref =
      events::HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest)) +
      "." + std::string(*type);
  if (Known(ref)) return ref;
  tx.state().Put(keys::Image(ref), bytes);
  images_.insert(ref);
  if (images_.size() > 1'000'000) images_.clear();  // A cache of refs; the store has them all.
  return ref;
}

Result<std::string> ImageStore::Read(events::EventStore& store, const std::string& ref) {
  std::string bytes;
  if (ref.size() > 80 || store.kv().Get(keys::Image(ref), &bytes)) {
    return {svc_errc::not_found, "no image " + ref};
  }
  return bytes;
}

std::string ImageStore::Missing(const events::schema::ProductDetails& d) {
  for (size_t i = 0; i < d.images.size(); ++i) {
    const std::string& ref = d.images[i];
    if (!IsUrl(ref) && !Known(ref)) {
      return "images[" + std::to_string(i) + "]: no stored image " + ref +
             "; give an http(s) URL or an image in the pack";
    }
  }
  return {};
}

}  // namespace pavilion::catalog
