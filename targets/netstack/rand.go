package netstack

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
)

// defaultSeed is used when Config.Seed is zero, so that runs repeat unless
// asked otherwise.
const defaultSeed uint64 = 0x7463_7063_6f6e_6600 // "tcpconf\0"

// Domain separators, so that the secure stream and the insecure source drawn
// from one seed are unrelated.
const (
	domainSecure   = 1
	domainInsecure = 2
)

func chachaKey(seed uint64, domain byte) [32]byte {
	var k [32]byte
	binary.LittleEndian.PutUint64(k[:8], seed)
	k[8] = domain
	copy(k[16:], "tcpconform/ns")
	return k
}

// seededReader is the stack's SecureRNG: a ChaCha8 stream from the seed. It
// decides the ISN and timestamp-offset secrets, ephemeral ports, the IPv4 ID
// table and hash seeds; with ManualClock that makes ISNs and TSvals repeat
// bit for bit for a given seed. It is safe for concurrent use.
type seededReader struct {
	mu sync.Mutex
	c  *rand.ChaCha8
}

func newSeededReader(seed uint64) *seededReader {
	return &seededReader{c: rand.NewChaCha8(chachaKey(seed, domainSecure))}
}

func (r *seededReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Read(p)
}

// seededSource is the stack's RandSource, a math/rand (v1) Source that must be
// safe for concurrent use.
type seededSource struct {
	mu sync.Mutex
	c  *rand.ChaCha8
}

func newSeededSource(seed uint64) *seededSource {
	return &seededSource{c: rand.NewChaCha8(chachaKey(seed, domainInsecure))}
}

func (s *seededSource) Int63() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(s.c.Uint64() >> 1)
}

func (s *seededSource) Uint64() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.Uint64()
}

func (s *seededSource) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c = rand.NewChaCha8(chachaKey(uint64(seed), domainInsecure))
}
