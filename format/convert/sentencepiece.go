package convert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// parseSentencePieceModel reads the pieces of a SentencePiece ModelProto
// (tokenizer.model): repeated field 1 of messages with piece (1, string),
// score (2, float) and type (3, enum, GGUF's numbering). Other fields are
// skipped.
func parseSentencePieceModel(data []byte) (pieces []string, scores []float32, types []int32, err error) {
	for len(data) > 0 {
		field, wire, body, rest, err := protoField(data)
		if err != nil {
			return nil, nil, nil, err
		}
		data = rest
		if field != 1 || wire != 2 {
			continue
		}
		piece, score, typ := "", float32(0), int32(1)
		for len(body) > 0 {
			f, w, b, r, err := protoField(body)
			if err != nil {
				return nil, nil, nil, err
			}
			body = r
			switch {
			case f == 1 && w == 2:
				piece = string(b)
			case f == 2 && w == 5:
				score = math.Float32frombits(binary.LittleEndian.Uint32(b))
			case f == 3 && w == 0:
				typ = int32(binary.LittleEndian.Uint64(append(b, make([]byte, 8-len(b))...)))
			}
		}
		pieces = append(pieces, piece)
		scores = append(scores, score)
		types = append(types, typ)
	}
	if len(pieces) == 0 {
		return nil, nil, nil, errors.New("SentencePiece model has no pieces")
	}
	return pieces, scores, types, nil
}

// protoField splits one protobuf field off data. For varints body holds the
// value as 8 little-endian bytes; for fixed32/fixed64 the raw bytes; for
// length-delimited fields the payload.
func protoField(data []byte) (field, wire int, body, rest []byte, err error) {
	key, n := binary.Uvarint(data)
	if n <= 0 {
		return 0, 0, nil, nil, errors.New("SentencePiece model: bad protobuf field key")
	}
	data = data[n:]
	field, wire = int(key>>3), int(key&7)
	switch wire {
	case 0:
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return 0, 0, nil, nil, errors.New("SentencePiece model: bad varint")
		}
		body = binary.LittleEndian.AppendUint64(nil, v)
		return field, wire, body, data[n:], nil
	case 1, 5:
		size := 8
		if wire == 5 {
			size = 4
		}
		if len(data) < size {
			return 0, 0, nil, nil, errors.New("SentencePiece model: truncated")
		}
		return field, wire, data[:size], data[size:], nil
	case 2:
		l, n := binary.Uvarint(data)
		if n <= 0 || l > uint64(len(data)-n) {
			return 0, 0, nil, nil, errors.New("SentencePiece model: truncated")
		}
		data = data[n:]
		return field, wire, data[:l], data[l:], nil
	}
	return 0, 0, nil, nil, fmt.Errorf("SentencePiece model: unsupported protobuf wire type %d", wire)
}
