using System.Buffers.Binary;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Linux.Printk;

/// <summary>
/// A copy of a range of kernel virtual memory that survives unreadable pages: it reads in large chunks, falls back to
/// page by page where a chunk faults, and remembers which pages could not be read (and why) so that each record
/// touching them can be reported on its own.
/// </summary>
internal sealed class GuardedBuffer
{
    // The granule faults are recorded in: not the kernel's page size but no larger than any Linux page, so a fault
    // never hides bytes that could be read (on 16/64 KiB-page kernels a faulted page is simply several granules).
    private const int PageSize = 4096;
    private const int ChunkSize = 1 << 16;

    private readonly byte[] _data;
    private readonly Dictionary<int, KdumpException> _faults = new(); // by page index within the buffer

    public ulong Address { get; }
    public int Length => _data.Length;
    public ReadOnlySpan<byte> Span => _data;
    public int FaultedPages => _faults.Count;
    public bool AllFaulted => _faults.Count > 0 && _faults.Count == PageIndex(_data.Length - 1) + 1;

    private GuardedBuffer(ulong address, int length)
    {
        Address = address;
        _data = new byte[length];
    }

    public static GuardedBuffer Read(ReadVirtualMemory read, ulong address, int length, CancellationToken cancel)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        if (address + (ulong)length < address)
            throw new KdumpException("PrintkAddressInvalid", KdumpErrorKind.InvalidData,
                $"The range 0x{address:x} + 0x{length:x} wraps around the end of the address space.", address);
        var buf = new GuardedBuffer(address, length);
        int pos = 0;
        while (pos < length)
        {
            cancel.ThrowIfCancellationRequested();
            // Chunks end on page boundaries of the virtual address so that a fault falls back to whole pages.
            int n = (int)Math.Min((ulong)(length - pos), ChunkSize - ((address + (ulong)pos) % ChunkSize));
            try
            {
                read(address + (ulong)pos, buf._data.AsSpan(pos, n));
            }
            catch (KdumpException)
            {
                buf.ReadPageByPage(read, pos, n);
            }
            pos += n;
        }
        return buf;
    }

    private void ReadPageByPage(ReadVirtualMemory read, int start, int length)
    {
        int pos = start, end = start + length;
        while (pos < end)
        {
            int n = (int)Math.Min((ulong)(end - pos), PageSize - ((Address + (ulong)pos) % PageSize));
            try
            {
                read(Address + (ulong)pos, _data.AsSpan(pos, n));
            }
            catch (KdumpException ex) // a page filtered out of the dump, or an address that does not translate
            {
                _data.AsSpan(pos, n).Clear();
                for (int p = PageIndex(pos); p <= PageIndex(pos + n - 1); p++) _faults.TryAdd(p, ex);
            }
            pos += n;
        }
    }

    // Page index counted on virtual page boundaries, relative to the page holding the first byte.
    private int PageIndex(int offset) => (int)(((Address + (ulong)offset) / PageSize) - (Address / PageSize));

    /// <summary>Null when every byte of [offset, offset+length) was read; otherwise the first fault in that range.</summary>
    public KdumpException? FaultIn(int offset, int length)
    {
        if (_faults.Count == 0 || length <= 0) return null;
        for (int p = PageIndex(offset); p <= PageIndex(offset + length - 1); p++)
            if (_faults.TryGetValue(p, out var ex)) return ex;
        return null;
    }

    public ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan(offset, 8));
    public uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(offset, 4));
    public ushort U16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(offset, 2));
    public byte U8(int offset) => _data[offset];
}
