package batch

// Waiting returns how many calls wait in q for a batch.
func Waiting[In, Out any](q *Queue[In, Out]) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting)
}
