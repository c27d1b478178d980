#include "serve/model_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "core/error.h"

namespace fs = std::filesystem;

namespace pith::serve {

namespace {

// "N.pith" -> N; 0 for any other name.
int64_t version_of(const fs::path& p) {
  if (p.extension() != ".pith") return 0;
  const std::string stem = p.stem().string();
  if (stem.empty() || stem.size() > 12 || !std::all_of(stem.begin(), stem.end(), ::isdigit)) return 0;
  return std::stoll(stem);
}

}  // namespace

ModelStore::ModelStore(std::string dir) : dir_(std::move(dir)) {
  PITH_CHECK(fs::is_directory(dir_), "--models ", dir_, ": not a folder");
}

std::vector<StoredModel> ModelStore::scan() const {
  std::map<std::string, StoredModel> models;
  for (auto& e : fs::directory_iterator(dir_)) {
    const fs::path& p = e.path();
    const std::string name = p.stem().string();
    if (e.is_regular_file() && p.extension() == ".pith") {
      auto& m = models[name];
      m.name = name;
      m.versions.push_back({1, p.string()});
    } else if (e.is_directory()) {
      for (auto& v : fs::directory_iterator(p)) {
        if (const int64_t n = version_of(v.path()); n > 0 && v.is_regular_file()) {
          auto& m = models[p.filename().string()];
          m.name = p.filename().string();
          m.versions.push_back({n, v.path().string()});
        }
      }
    }
  }
  std::vector<StoredModel> out;
  for (auto& [name, m] : models) {
    std::sort(m.versions.begin(), m.versions.end(),
              [](const StoredVersion& a, const StoredVersion& b) { return a.version < b.version; });
    // DIR/NAME.pith and DIR/NAME/1.pith both claim version 1: the folder's copy wins.
    m.versions.erase(std::unique(m.versions.begin(), m.versions.end(),
                                 [](const StoredVersion& a, const StoredVersion& b) { return a.version == b.version; }),
                     m.versions.end());
    if (fs::is_regular_file(fs::path(dir_) / (name + ".json")))
      m.settings_file = (fs::path(dir_) / (name + ".json")).string();
    out.push_back(m);
  }
  return out;
}

StoredVersion ModelStore::add_version(const std::string& name, std::string_view bytes) const {
  const fs::path folder = fs::path(dir_) / name;
  std::error_code ec;
  fs::create_directories(folder, ec);
  PITH_CHECK(!ec, folder.string(), ": cannot create the version folder: ", ec.message());
  int64_t next = fs::is_regular_file(fs::path(dir_) / (name + ".pith")) ? 2 : 1;
  for (auto& v : fs::directory_iterator(folder)) next = std::max(next, version_of(v.path()) + 1);
  const fs::path final_path = folder / (std::to_string(next) + ".pith");
  std::string tmp = (folder / (".upload-" + std::to_string(next) + "-XXXXXX")).string();
  const int fd = mkstemp(tmp.data());
  PITH_CHECK(fd >= 0, folder.string(), ": cannot create a temporary file: ", std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(tmp, ": write failed: ", why);
    }
    written += size_t(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail(final_path.string(), ": cannot store the upload: ", why);
  }
  return {next, final_path.string()};
}

void ModelStore::remove_version(const StoredVersion& v) const {
  std::error_code ec;
  fs::remove(v.path, ec);
}

}  // namespace pith::serve
