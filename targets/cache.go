package targets

import (
	"os"
	"path/filepath"
)

// CacheDir returns the directory where a target keeps what it builds once
// and reuses from run to run (an agent binary, a guest image), under the
// user's cache directory (else the temporary one), making it if needed.
func CacheDir(name string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "tcpconform", name)
	return dir, os.MkdirAll(dir, 0o755)
}
