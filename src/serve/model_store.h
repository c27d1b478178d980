// ModelStore: the models folder `pith serve --models DIR` serves from and keeps versions in.
//   DIR/NAME.pith         a model, version 1
//   DIR/NAME/N.pith       version N of NAME (uploads land here)
//   DIR/NAME.json         optional settings for NAME (serve/server.h: workers, fallback, pipelines, ...)
// An upload is written to a temporary file in DIR/NAME/ and renamed to N.pith only when
// every byte is on disk (and fsynced), so no half-written version is ever visible;
// a version that fails its checks is removed again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pith::serve {

struct StoredVersion {
  int64_t version = 0;
  std::string path;
};

struct StoredModel {
  std::string name;
  std::vector<StoredVersion> versions;  // ascending
  std::string settings_file;            // DIR/NAME.json when present
};

class ModelStore {
 public:
  explicit ModelStore(std::string dir);  // Error unless dir is an existing folder
  const std::string& dir() const { return dir_; }

  // Every model in the folder, by name. Files that are not .pith artifacts are skipped.
  std::vector<StoredModel> scan() const;
  // Writes bytes as the next version of name; returns it (path and number).
  StoredVersion add_version(const std::string& name, std::string_view bytes) const;
  // Deletes a version's file (one that failed its checks).
  void remove_version(const StoredVersion& v) const;

 private:
  std::string dir_;
};

}  // namespace pith::serve
