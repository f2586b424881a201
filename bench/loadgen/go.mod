module podid.dev/bench/loadgen

go 1.24
