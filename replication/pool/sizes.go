package pool

// Sizes splits a total connection budget (ELECTRIC_DB_POOL_SIZE) the way
// upstream does: the admin pool gets clamp(total/4, 1, 4) connections and
// the snapshot pool the rest, at least one.
func Sizes(total int) (admin, snapshot int32) {
	a := min(max(total/4, 1), 4)
	return int32(a), int32(max(total-a, 1))
}
