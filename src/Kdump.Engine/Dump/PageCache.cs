namespace Kdump.Engine.Dump;

/// <summary>A bounded, thread-safe LRU cache of decompressed pages keyed by pfn.</summary>
internal sealed class PageCache
{
    private readonly int _capacity, _pageSize;
    private readonly Dictionary<ulong, LinkedListNode<(ulong pfn, byte[] data)>> _map = new();
    private readonly LinkedList<(ulong pfn, byte[] data)> _lru = new();
    private readonly object _lock = new();

    public PageCache(int capacity, int pageSize) { _capacity = Math.Max(1, capacity); _pageSize = pageSize; }

    public long Hits, Misses;

    public bool TryGet(ulong pfn, Span<byte> destination)
    {
        lock (_lock)
        {
            if (!_map.TryGetValue(pfn, out var node)) { Misses++; return false; }
            _lru.Remove(node);
            _lru.AddFirst(node);
            node.Value.data.CopyTo(destination);
            Hits++;
            return true;
        }
    }

    public void Add(ulong pfn, ReadOnlySpan<byte> page)
    {
        lock (_lock)
        {
            if (_map.ContainsKey(pfn)) return;
            byte[] buf;
            if (_map.Count >= _capacity)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _map.Remove(last.Value.pfn);
                buf = last.Value.data;
            }
            else buf = new byte[_pageSize];
            page[.._pageSize].CopyTo(buf);
            _map[pfn] = _lru.AddFirst((pfn, buf));
        }
    }

    public int Count { get { lock (_lock) return _map.Count; } }
}
