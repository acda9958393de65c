using System.Buffers.Binary;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Translation;

/// <summary>
/// Byte-granular reads of physical memory over an <see cref="IPhysicalMemory"/>, with a small direct-mapped page
/// cache (page tables, kallsyms and BTF are read many times). Thread-safe.
/// </summary>
public sealed class PhysicalReader
{
    private readonly IPhysicalMemory _memory;
    private readonly int _pageSize;
    private readonly int _pageShift;
    private readonly Slot[] _slots;
    private readonly object[] _locks;

    private sealed class Slot
    {
        public ulong Pfn = ulong.MaxValue;
        public PageStatus Status;
        public byte[] Data = Array.Empty<byte>();
    }

    public PhysicalReader(IPhysicalMemory memory, int cachePages = 1024)
    {
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        _pageSize = memory.PageSize;
        if (_pageSize < 512 || _pageSize > (1 << 20) || (_pageSize & (_pageSize - 1)) != 0)
            throw new KdumpException("PageSizeInvalid", KdumpErrorKind.InvalidData, $"Page size {_pageSize} is not a power of two between 512 and 1 MiB.", _pageSize);
        _pageShift = System.Numerics.BitOperations.Log2((uint)_pageSize);
        int n = 1;
        while (n < Math.Clamp(cachePages, 16, 1 << 16)) n <<= 1;
        _slots = new Slot[n];
        _locks = new object[64];
        for (int i = 0; i < n; i++) _slots[i] = new Slot();
        for (int i = 0; i < _locks.Length; i++) _locks[i] = new object();
    }

    public IPhysicalMemory Memory => _memory;

    /// <summary>Forgets cached pages (for memory that can change, e.g. tests or a live source).</summary>
    public void Clear()
    {
        for (int i = 0; i < _slots.Length; i++)
            lock (_locks[i & (_locks.Length - 1)]) _slots[i].Pfn = ulong.MaxValue;
    }
    public int PageSize => _pageSize;

    /// <summary>Copies bytes of page <paramref name="pfn"/> starting at <paramref name="offset"/> into <paramref name="dest"/>; returns the page status.</summary>
    public PageStatus ReadFromPage(ulong pfn, int offset, Span<byte> dest)
    {
        int idx = (int)(pfn & (ulong)(_slots.Length - 1));
        lock (_locks[idx & (_locks.Length - 1)])
        {
            var s = _slots[idx];
            if (s.Pfn != pfn)
            {
                if (s.Data.Length != _pageSize) s.Data = new byte[_pageSize];
                PageStatus st;
                if (pfn >= _memory.MaxPfn && _memory.MaxPfn != 0) st = PageStatus.NotInDump;
                else
                {
                    try { st = _memory.ReadPage(pfn, s.Data); }
                    catch (MemoryFaultException mf) { st = mf.Status; }
                }
                s.Pfn = pfn;
                s.Status = st;
            }
            if (s.Status == PageStatus.Present) s.Data.AsSpan(offset, dest.Length).CopyTo(dest);
            return s.Status;
        }
    }

    /// <summary>Reads bytes at a physical address; the first unreadable page stops the read. Returns status and the address that failed.</summary>
    public PageStatus TryRead(ulong address, Span<byte> dest, out ulong failedAddress)
    {
        failedAddress = 0;
        int done = 0;
        while (done < dest.Length)
        {
            ulong a = address + (ulong)done;
            if (a < address) { failedAddress = a; return PageStatus.NotInDump; }
            ulong pfn = a >> _pageShift;
            int off = (int)(a & (ulong)(_pageSize - 1));
            int n = Math.Min(_pageSize - off, dest.Length - done);
            var st = ReadFromPage(pfn, off, dest.Slice(done, n));
            if (st != PageStatus.Present) { failedAddress = a; return st; }
            done += n;
        }
        return PageStatus.Present;
    }

    /// <summary>Reads bytes at a physical address or throws <see cref="MemoryFaultException"/>.</summary>
    public void Read(ulong address, Span<byte> dest)
    {
        var st = TryRead(address, dest, out var bad);
        if (st != PageStatus.Present) throw new MemoryFaultException(bad, st);
    }

    public ulong ReadU64(ulong address)
    {
        Span<byte> b = stackalloc byte[8];
        Read(address, b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public PageStatus TryReadU64(ulong address, out ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        var st = TryRead(address, b, out _);
        value = st == PageStatus.Present ? BinaryPrimitives.ReadUInt64LittleEndian(b) : 0;
        return st;
    }
}
