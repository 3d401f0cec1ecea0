package arch

import "strconv"

// Role is what a tensor does in the forward pass. The runtime binds each
// tensor to its place by role, so a family that reuses the roles below
// needs no runtime code of its own; a new kind of piece is a new role and
// a few lines in the runtime's forward pass.
type Role uint8

// Roles outside the blocks.
const (
	RoleTokenEmbedding    Role = iota + 1 // (vocab, dim) one row per token
	RolePositionEmbedding                 // (ctx, dim) one row per position (Learned)
	RoleOutputNorm                        // (dim,) final norm weight
	RoleOutputNormBias                    // (dim,) final norm bias (LayerNorm)
	RoleOutput                            // (vocab, dim) classifier; absent when shared with the embedding
	RoleRopeFreqs                         // (head_size/2,) RoPE frequency divisor of each pair (LLaMA 3.1, LongRoPE)

	blockRoles // roles from here on are one per block
)

// Roles of one block's tensors.
const (
	RoleAttnNorm       Role = iota + blockRoles // (dim,) norm before attention
	RoleAttnNormBias                            // (dim,)
	RoleAttnQ                                   // (q_dim, dim)
	RoleAttnK                                   // (kv_dim, dim)
	RoleAttnV                                   // (kv_dim, dim)
	RoleAttnQKV                                 // (q_dim+2·kv_dim, dim): q, k and v stacked
	RoleAttnQBias                               // (q_dim,)
	RoleAttnKBias                               // (kv_dim,)
	RoleAttnVBias                               // (kv_dim,)
	RoleAttnQKVBias                             // (q_dim+2·kv_dim,)
	RoleAttnQNorm                               // (head_size,) RMSNorm weight of each query head, before RoPE
	RoleAttnKNorm                               // (head_size,) RMSNorm weight of each key head, before RoPE
	RoleAttnOutput                              // (dim, q_dim)
	RoleAttnOutputBias                          // (dim,)
	RoleFFNNorm                                 // (dim,) norm before the feed-forward network
	RoleFFNNormBias                             // (dim,)
	RoleFFNGate                                 // (hidden, dim) SwiGLU's gate
	RoleFFNUp                                   // (hidden, dim)
	RoleFFNGateUp                               // (2·hidden, dim): gate and up stacked
	RoleFFNUpBias                               // (hidden,)
	RoleFFNDown                                 // (dim, hidden)
	RoleFFNDownBias                             // (dim,)
	numRoles
)

// Block reports whether there is one tensor of role r per block.
func (r Role) Block() bool { return r >= blockRoles }

var roleNames = [numRoles]string{
	RoleTokenEmbedding: "token embedding", RolePositionEmbedding: "position embedding",
	RoleOutputNorm: "output norm", RoleOutputNormBias: "output norm bias", RoleOutput: "classifier",
	RoleRopeFreqs: "RoPE frequency divisors", RoleAttnNorm: "attention norm", RoleAttnNormBias: "attention norm bias",
	RoleAttnQ: "query", RoleAttnK: "key", RoleAttnV: "value", RoleAttnQKV: "fused query, key, value",
	RoleAttnQBias: "query bias", RoleAttnKBias: "key bias", RoleAttnVBias: "value bias",
	RoleAttnQKVBias: "fused query, key, value bias", RoleAttnQNorm: "query head norm",
	RoleAttnKNorm: "key head norm", RoleAttnOutput: "attention output",
	RoleAttnOutputBias: "attention output bias", RoleFFNNorm: "feed-forward norm",
	RoleFFNNormBias: "feed-forward norm bias", RoleFFNGate: "gate", RoleFFNUp: "up",
	RoleFFNGateUp: "fused gate, up", RoleFFNUpBias: "up bias", RoleFFNDown: "down",
	RoleFFNDownBias: "down bias",
}

func (r Role) String() string {
	if int(r) < len(roleNames) && roleNames[r] != "" {
		return roleNames[r]
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}
