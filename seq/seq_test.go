package seq

import "testing"

func TestCompareAcrossWrap(t *testing.T) {
	tests := []struct {
		a, b Value
		less bool
	}{
		{1, 2, true},
		{2, 1, false},
		{0xffffffff, 0, true},
		{0xfffffff0, 0x10, true},
		{0x10, 0xfffffff0, false},
		{5, 5, false},
		{0, 0x7fffffff, true},
	}
	for _, tt := range tests {
		if got := tt.a.LessThan(tt.b); got != tt.less {
			t.Errorf("%v.LessThan(%v) = %v, want %v", tt.a, tt.b, got, tt.less)
		}
		if tt.a != tt.b && tt.b.GreaterThan(tt.a) != tt.less {
			t.Errorf("%v.GreaterThan(%v) disagrees with LessThan", tt.b, tt.a)
		}
	}
	if !Value(7).LessThanEq(7) || !Value(7).GreaterThanEq(7) {
		t.Error("equal values must satisfy LessThanEq and GreaterThanEq")
	}
}

func TestArithmeticWraps(t *testing.T) {
	if got := Value(0xfffffffe).Add(4); got != 2 {
		t.Errorf("Add across wrap = %v, want 2", got)
	}
	if got := Value(2).Sub(4); got != 0xfffffffe {
		t.Errorf("Sub across wrap = %v, want 4294967294", got)
	}
	if got := Value(2).Offset(0xfffffffe); got != 4 {
		t.Errorf("Offset across wrap = %d, want 4", got)
	}
	if got := Value(0xfffffffe).Offset(2); got != -4 {
		t.Errorf("negative Offset = %d, want -4", got)
	}
	if got := Value(3).Distance(0xffffffff); got != 4 {
		t.Errorf("Distance = %d, want 4", got)
	}
	if Max(0xffffffff, 1) != 1 || Min(0xffffffff, 1) != 0xffffffff {
		t.Error("Max/Min must follow sequence order, not integer order")
	}
}

func TestWindow(t *testing.T) {
	tests := []struct {
		v     Value
		first Value
		size  Size
		in    bool
	}{
		{100, 100, 10, true},
		{109, 100, 10, true},
		{110, 100, 10, false},
		{99, 100, 10, false},
		{100, 100, 0, false},
		{2, 0xfffffffe, 8, true},
		{6, 0xfffffffe, 8, false},
	}
	for _, tt := range tests {
		if got := tt.v.InWindow(tt.first, tt.size); got != tt.in {
			t.Errorf("%v.InWindow(%v, %d) = %v, want %v", tt.v, tt.first, tt.size, got, tt.in)
		}
	}
}

// TestAcceptable walks the four rows of the RFC 9293 section 3.10.7.4 table.
func TestAcceptable(t *testing.T) {
	tests := []struct {
		name   string
		seg    Value
		len    Size
		rcvNxt Value
		wnd    Size
		want   bool
	}{
		{"empty, zero window, at RCV.NXT", 10, 0, 10, 0, true},
		{"empty, zero window, elsewhere", 11, 0, 10, 0, false},
		{"empty, open window, inside", 15, 0, 10, 10, true},
		{"empty, open window, at right edge", 20, 0, 10, 10, false},
		{"data, zero window", 10, 5, 10, 0, false},
		{"data, starts inside", 18, 5, 10, 10, true},
		{"data, ends inside", 5, 6, 10, 10, true},
		{"data, wholly old", 5, 5, 10, 10, false},
		{"data, wholly beyond", 20, 5, 10, 10, false},
		{"data across wrap", 0xfffffffc, 8, 0xfffffffe, 100, true},
	}
	for _, tt := range tests {
		if got := Acceptable(tt.seg, tt.len, tt.rcvNxt, tt.wnd); got != tt.want {
			t.Errorf("%s: Acceptable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzOrderIsAntisymmetric(f *testing.F) {
	f.Add(uint32(0), uint32(1))
	f.Add(uint32(0xffffffff), uint32(0))
	f.Fuzz(func(t *testing.T, a, b uint32) {
		x, y := Value(a), Value(b)
		if x.LessThan(y) && y.LessThan(x) {
			t.Fatalf("%v and %v are each before the other", x, y)
		}
		if x.Add(y.Distance(x)) != y {
			t.Fatalf("x + (y - x) != y for %v, %v", x, y)
		}
	})
}
