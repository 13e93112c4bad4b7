use stateprop::Shard;

#[stateprop::shards]
fn campaign(shard: Shard) {
    let _ = shard;
}

#[stateprop::shards(4, seed = 1)]
fn other(shard: Shard) {
    let _ = shard;
}

fn main() {}
