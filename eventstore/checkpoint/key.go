package checkpoint

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the name of the signing key's file in the data directory.
// It is written with mode 0600 and never enters the event log.
const KeyFile = "signing.key"

// ErrNoKey is returned when a data directory has no signing key yet.
var ErrNoKey = errors.New("checkpoint: no signing key")

// KeyID names a public key in checkpoints: "ed25519:" and the first 16 hex
// digits of the SHA-256 of the key's 32 bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// LoadKey reads the signing key of data directory dir. A directory without
// one gives an error wrapping ErrNoKey.
func LoadKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s (the first `ledger serve` creates %s)", ErrNoKey, dir, KeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: reading the signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("checkpoint: %s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("checkpoint: %s holds a %T, not an Ed25519 key", path, k)
	}
	return priv, nil
}

// LoadOrCreateKey reads dir's signing key, creating it first (mode 0600,
// written atomically) if dir has none.
func LoadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	priv, err := LoadKey(dir)
	if !errors.Is(err, ErrNoKey) {
		return priv, err
	}
	_, priv, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	err = writeFileAtomic(filepath.Join(dir, KeyFile), b, false)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: writing the signing key: %w", err)
	}
	return priv, nil
}

// writeFileAtomic writes b to path with mode 0600 through a temporary file
// in the same directory, synced before it is moved into place. Without
// replace, an existing path is left alone and an error wrapping
// fs.ErrExist returned: two processes creating the key at once keep one.
func writeFileAtomic(path string, b []byte, replace bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if replace {
		return os.Rename(tmp.Name(), path)
	}
	// A hard link fails if path exists, so a key created meanwhile by
	// another process is never replaced.
	return os.Link(tmp.Name(), path)
}

// MarshalPublicKey encodes pub as a PEM "PUBLIC KEY" block (PKIX), the
// form `ledger key show` prints and `ledger verify --key` reads.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // an ed25519.PublicKey always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePublicKey decodes a PEM "PUBLIC KEY" block holding an Ed25519 key.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("checkpoint: not a PEM public key (as `ledger key show` prints)")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("checkpoint: the public key is a %T, not Ed25519", k)
	}
	return pub, nil
}
