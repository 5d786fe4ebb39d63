package pan123test

// InFlight returns how many requests are being handled (for tests).
func (s *Server) InFlight() int64 { return s.active.Load() }
