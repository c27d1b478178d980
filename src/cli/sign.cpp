// pith keygen NAME                              writes NAME.key (secret) and NAME.pub (public)
// pith sign MODEL.pith --key NAME.key           signs the artifact in place (Ed25519)
// pith verify MODEL.pith --public-key NAME.pub  exit 0 when signed by that key, else 1
// Other commands take --public-key NAME.pub to refuse artifacts that key did not sign.
#include <iostream>

#include "artifact/artifact.h"
#include "artifact/signature.h"
#include "cli/commands.h"

namespace pith::cli {

int cmd_keygen(const std::vector<std::string>& argv) {
  Args args = Args::parse(argv, {}, {});
  PITH_CHECK(args.positional.size() == 1, "usage: pith keygen NAME   (writes NAME.key and NAME.pub)");
  artifact::generate_keypair(args.positional[0]);
  std::cout << "wrote " << args.positional[0] << ".key (secret: keep it private) and " << args.positional[0]
            << ".pub\n";
  return 0;
}

int cmd_sign(const std::vector<std::string>& argv) {
  Args args = Args::parse(argv, {"key"}, {});
  PITH_CHECK(args.positional.size() == 1 && !args.get("key").empty(), "usage: pith sign MODEL.pith --key NAME.key");
  const std::string& path = args.positional[0];
  PITH_CHECK(artifact::looks_like_artifact(path), path, ": not a .pith artifact (only artifacts can be signed)");
  artifact::read_file(path);  // a damaged artifact is refused before it gets a signature
  artifact::sign_file(path, args.get("key"));
  std::cout << "signed " << path << "\n";
  return 0;
}

int cmd_verify(const std::vector<std::string>& argv) {
  Args args = Args::parse(argv, {"public-key"}, {});
  PITH_CHECK(args.positional.size() == 1 && !args.get("public-key").empty(),
             "usage: pith verify MODEL.pith --public-key NAME.pub");
  const std::string& path = args.positional[0];
  artifact::require_signature(path, args.get("public-key"));
  artifact::read_file(path);  // and the contents verify too
  std::cout << path << ": signature valid (" << args.get("public-key") << ")\n";
  return 0;
}

}  // namespace pith::cli
