use stateprop::Shard;

#[stateprop::shards(4)]
fn no_shard() {}

#[stateprop::shards(4)]
fn two(shard: Shard, seed: u64) {
    let _ = (shard, seed);
}

#[stateprop::shards(4)]
async fn later(shard: Shard) {
    let _ = shard;
}

fn main() {}
