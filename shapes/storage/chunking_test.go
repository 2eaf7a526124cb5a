package storage

import "testing"

func TestFillChunkReachesOrExceeds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                   string
		total, size, threshold uint64
		sum                    uint64
		closes                 bool
	}{
		{"below", 0, 9, 10, 9, false},
		{"exactly reaches", 9, 1, 10, 10, true},
		{"one byte short", 8, 1, 10, 9, false},
		{"exceeds", 5, 100, 10, 105, true},
		{"a single entry above the threshold", 0, 11, 10, 11, true},
		{"threshold of one closes after every entry", 0, 1, 1, 1, true},
	}
	for _, c := range cases {
		sum, closes := fillChunk(c.total, c.size, c.threshold)
		if sum != c.sum || closes != c.closes {
			t.Errorf("%s: fillChunk(%d, %d, %d) = %d, %v; want %d, %v",
				c.name, c.total, c.size, c.threshold, sum, closes, c.sum, c.closes)
		}
	}
	if entrySize(0) != 1 || entrySize(199) != 200 {
		t.Fatalf("entrySize must count the JSON length plus one")
	}
}
