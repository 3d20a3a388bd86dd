package posix

// ReadHostNetns reads again which network namespace is the process's own,
// as the package does at start-up. A program that mounts /proc only once
// it runs (the init of a guest) calls it on its main goroutine after the
// mount: before, the namespace cannot be read, and NewThread refuses to
// work, unable to check that its thread has left that namespace.
func ReadHostNetns() error {
	ino, err := nsInode("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	hostNetns = ino
	return nil
}
