module github.com/llmap/llmap

go 1.26

require (
	github.com/chewxy/math32 v1.10.1 // indirect
	github.com/edsrzf/mmap-go v1.2.0 // indirect
	github.com/viterin/partial v1.1.0 // indirect
	github.com/viterin/vek v0.4.3 // indirect
	golang.org/x/exp v0.0.0-20230817173708-d852ddb80c63 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
