#include "artifact/session_loader.h"

#include "artifact/artifact.h"
#include "artifact/signature.h"

namespace pith::artifact {

LoadedModel load_session(const std::string& path, const LoadOptions& options) {
  if (!options.public_key_file.empty()) require_signature(path, options.public_key_file);
  Artifact a = read_file(path);
  LoadedModel m;
  m.metadata = std::move(a.metadata);
  m.session = std::make_unique<Session>(std::make_shared<Graph>(std::move(a.graph)), options.session);
  return m;
}

}  // namespace pith::artifact
