use stateprop::Shard;

#[stateprop::shards(0)]
fn campaign(shard: Shard) {
    let _ = shard;
}

fn main() {}
