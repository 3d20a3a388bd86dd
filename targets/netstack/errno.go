package netstack

import (
	"fmt"
	"reflect"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// errnoTable maps each netstack error type to the errno a Linux socket call
// reports for the same condition.
var errnoTable = map[reflect.Type]syscall.Errno{
	reflect.TypeFor[*tcpip.ErrWouldBlock]():                   syscall.EAGAIN,
	reflect.TypeFor[*tcpip.ErrConnectStarted]():               syscall.EINPROGRESS,
	reflect.TypeFor[*tcpip.ErrConnectionRefused]():            syscall.ECONNREFUSED,
	reflect.TypeFor[*tcpip.ErrConnectionReset]():              syscall.ECONNRESET,
	reflect.TypeFor[*tcpip.ErrConnectionAborted]():            syscall.ECONNABORTED,
	reflect.TypeFor[*tcpip.ErrAborted]():                      syscall.EPIPE,
	reflect.TypeFor[*tcpip.ErrClosedForSend]():                syscall.EPIPE,
	reflect.TypeFor[*tcpip.ErrClosedForReceive]():             syscall.ESHUTDOWN, // Read turns it into end of stream
	reflect.TypeFor[*tcpip.ErrNotConnected]():                 syscall.ENOTCONN,
	reflect.TypeFor[*tcpip.ErrAlreadyConnected]():             syscall.EISCONN,
	reflect.TypeFor[*tcpip.ErrAlreadyConnecting]():            syscall.EALREADY,
	reflect.TypeFor[*tcpip.ErrAlreadyBound]():                 syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrInvalidEndpointState]():         syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrPortInUse]():                    syscall.EADDRINUSE,
	reflect.TypeFor[*tcpip.ErrNoPortAvailable]():              syscall.EADDRNOTAVAIL,
	reflect.TypeFor[*tcpip.ErrBadLocalAddress]():              syscall.EADDRNOTAVAIL,
	reflect.TypeFor[*tcpip.ErrTimeout]():                      syscall.ETIMEDOUT,
	reflect.TypeFor[*tcpip.ErrNetworkUnreachable]():           syscall.ENETUNREACH,
	reflect.TypeFor[*tcpip.ErrHostUnreachable]():              syscall.EHOSTUNREACH,
	reflect.TypeFor[*tcpip.ErrHostDown]():                     syscall.EHOSTDOWN,
	reflect.TypeFor[*tcpip.ErrNoNet]():                        syscall.ENONET,
	reflect.TypeFor[*tcpip.ErrAddressFamilyNotSupported]():    syscall.EAFNOSUPPORT,
	reflect.TypeFor[*tcpip.ErrBadAddress]():                   syscall.EFAULT,
	reflect.TypeFor[*tcpip.ErrBadBuffer]():                    syscall.EFAULT,
	reflect.TypeFor[*tcpip.ErrBroadcastDisabled]():            syscall.EACCES,
	reflect.TypeFor[*tcpip.ErrDestinationRequired]():          syscall.EDESTADDRREQ,
	reflect.TypeFor[*tcpip.ErrDuplicateAddress]():             syscall.EEXIST,
	reflect.TypeFor[*tcpip.ErrDuplicateNICID]():               syscall.EEXIST,
	reflect.TypeFor[*tcpip.ErrInvalidNICID]():                 syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrUnknownNICID]():                 syscall.ENODEV,
	reflect.TypeFor[*tcpip.ErrUnknownDevice]():                syscall.ENODEV,
	reflect.TypeFor[*tcpip.ErrInvalidOptionValue]():           syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrInvalidPortRange]():             syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrMalformedHeader]():              syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrMessageTooLong]():               syscall.EMSGSIZE,
	reflect.TypeFor[*tcpip.ErrNoBufferSpace]():                syscall.ENOBUFS,
	reflect.TypeFor[*tcpip.ErrNotPermitted]():                 syscall.EPERM,
	reflect.TypeFor[*tcpip.ErrNotSupported]():                 syscall.EOPNOTSUPP,
	reflect.TypeFor[*tcpip.ErrQueueSizeNotSupported]():        syscall.ENOTTY,
	reflect.TypeFor[*tcpip.ErrUnknownProtocol]():              syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrUnknownProtocolOption]():        syscall.ENOPROTOOPT,
	reflect.TypeFor[*tcpip.ErrNoSuchFile]():                   syscall.ENOENT,
	reflect.TypeFor[*tcpip.ErrMissingRequiredFields]():        syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrMulticastInputCannotBeOutput](): syscall.EINVAL,
	reflect.TypeFor[*tcpip.ErrEndpointBusy]():                 syscall.EBUSY,
}

// errnoOf returns the errno for a netstack error, ok=false for one the table
// does not know.
func errnoOf(err tcpip.Error) (syscall.Errno, bool) {
	e, ok := errnoTable[reflect.TypeOf(err)]
	return e, ok
}

// toErr converts a netstack error for the Sockets API: nil stays nil, a known
// error becomes its syscall.Errno, and an unknown one a non-errno error, which
// the harness reports as its own failure rather than the script's.
func toErr(err tcpip.Error) error {
	if err == nil {
		return nil
	}
	if e, ok := errnoOf(err); ok {
		return e
	}
	return fmt.Errorf("netstack: unmapped error %T (%v)", err, err)
}
