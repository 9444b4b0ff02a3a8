// CURVE keypairs as files: Z85 text (40 characters and a newline), the
// secret file created with mode 0600.
#pragma once

#include <string>

#include "topology/status.h"

namespace lifeline::runtime {

struct Keypair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

inline constexpr const char* kPublicKeyFile = "node.pub";
inline constexpr const char* kSecretKeyFile = "node.key";

// A new keypair from libzmq (libsodium underneath).
Result<Keypair> generate_keypair();
// Writes DIR/node.pub and DIR/node.key (0600), creating DIR; refuses to
// overwrite an existing secret.
Status write_keypair(const std::string& dir, const Keypair& keys);
// Reads a Z85 key file (40 characters, surrounding whitespace ignored).
Result<std::string> read_key_file(const std::string& path);
// True for 40 characters of the Z85 alphabet that decode to 32 bytes.
bool valid_z85_key(const std::string& key);

}  // namespace lifeline::runtime
