// Opening a .pith artifact as a ready Session, with the checks an application on a device
// wants in one call: with `public_key_file` set, the artifact must carry a valid Ed25519
// signature by that key (signature.h) before a byte of it is parsed; then it is read
// (mmapped, checksummed, verified: artifact.h) and handed to a Session. Any failure is a
// pith::Error naming the file and the reason, and no Session is made.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "runtime/session.h"

namespace pith::artifact {

struct LoadOptions {
  std::string public_key_file;  // empty: unsigned artifacts are accepted
  SessionOptions session;
};

struct LoadedModel {
  std::unique_ptr<Session> session;
  std::map<std::string, std::string> metadata;
};

LoadedModel load_session(const std::string& path, const LoadOptions& options = {});

}  // namespace pith::artifact
