package script

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestZZReviewDump(t *testing.T) {
	path := os.Getenv("ZZ_FILE")
	if path == "" {
		t.Skip()
	}
	f, err := ParseFile(path, ParseOptions{})
	if err != nil {
		fmt.Println("ERR:", err)
	}
	if f == nil {
		return
	}
	for _, o := range f.Options {
		fmt.Printf("OPT %+v\n", *o)
	}
	if f.Init != nil {
		fmt.Printf("INIT %q\n", f.Init.Cmd)
	}
	for _, ev := range f.Events {
		b, _ := json.Marshal(ev.Action)
		fmt.Printf("%d:%d kind=%d start=%v range=%v end=%v blk=%v bend=%v %T %s\n", ev.Pos.Line, ev.Pos.Col, ev.Time.Kind, ev.Time.Start, ev.Time.Range, ev.Time.End, ev.Time.Blocking, ev.Time.BlockEnd, ev.Action, b)
	}
	if f.Cleanup != nil {
		fmt.Printf("CLEANUP %q\n", f.Cleanup.Cmd)
	}
}
