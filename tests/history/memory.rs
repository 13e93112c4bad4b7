//! Importing holds little more than the history it builds: measured by counting this thread's
//! allocations (the importers are single-threaded; other tests run on other threads).

use stateprop::import::{jepsen_edn_register, kv_edn};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the bytes each thread holds and the most it held.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with`: a thread being torn down has no counters left, and must still free memory.
    let _ = HELD.try_with(|held| {
        let now = held.get() + delta;
        held.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes this thread held above its starting point while running `f`.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = HELD.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, (peak - start).max(0) as usize)
}

#[test]
fn an_edn_import_holds_about_the_history_not_a_tree_of_the_file() {
    let events = 20_000;
    let mut register = String::new();
    let mut kv = String::new();
    for i in 0..events {
        let p = i % 8;
        register.push_str(&format!(
            "{{:process {p}, :type :invoke, :f :write, :value {i}, :time {i}}}\n\
             {{:process {p}, :type :ok, :f :write, :value {i}, :time {i}}}\n"
        ));
        kv.push_str(&format!(
            "{{:process {p}, :type :invoke, :f :put, :key \"{}\", :value \"v{i}\"}}\n\
             {{:process {p}, :type :ok, :f :put, :key \"{}\", :value \"v{i}\"}}\n",
            i % 100,
            i % 100
        ));
    }
    // Reading the whole file as one tree of forms took 12-14 times the file's size; one event at
    // a time, the history itself is most of it. The history also keeps, beside each operation,
    // where it was read (`History::sources`, for explanations): its lines, and here its two
    // `:time`s as written, which is what takes the register file past twice its text.
    let (history, peak) = peak_during(|| jepsen_edn_register(&register).unwrap());
    eprintln!(
        "register: {peak} bytes held to import {} bytes",
        register.len()
    );
    assert_eq!(history.len(), events);
    assert!(
        peak * 2 < register.len() * 5,
        "register: {peak} bytes held to import {} bytes",
        register.len()
    );
    let (history, peak) = peak_during(|| kv_edn(&kv).unwrap());
    eprintln!("kv: {peak} bytes held to import {} bytes", kv.len());
    assert_eq!(history.len(), events);
    assert!(
        peak < kv.len() * 2,
        "kv: {peak} bytes held to import {} bytes",
        kv.len()
    );
}
