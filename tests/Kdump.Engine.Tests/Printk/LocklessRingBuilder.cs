using System.Text;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests.Printk;

/// <summary>
/// Builds a lockless printk ring buffer (Linux 5.10+ layout, x86_64 offsets of 6.1) in <see cref="SyntheticMemory"/>
/// the way the kernel fills it: data blocks of an 8-byte id plus the text rounded up to 8 bytes, a block that would
/// cross the ring's end stored at its start, the oldest records recycled (made reusable) when the text or descriptor
/// ring is full. <see cref="Live"/> is what a reader must return.
/// </summary>
public sealed class LocklessRingBuilder
{
    public const ulong PrbVariable = 0xffffffff82a1c3a8;
    public const ulong RingStruct = 0xffffffff82a1d000;
    public const ulong DescsBase = 0xffffffff82b00000;
    public const ulong InfosBase = 0xffffffff82c00000;
    public const ulong TextBase = 0xffffffff82e00000;
    public const ulong IdMask = (1UL << 62) - 1;

    // 6.1 x86_64 layout.
    public const int DescSize = 24, InfoSize = 88, RingSize = 88, TextRingOffset = 48;

    public sealed record Entry(ulong Id, ulong Seq, ulong Ts, int Level, int Facility, uint Caller, byte[] Text,
        string Subsystem, string Device, ulong Begin, ulong Next);

    private readonly List<Entry> _live = new();
    private readonly int _countBits, _sizeBits;
    private ulong _nextId, _tailId, _headLpos, _tailLpos, _seq;

    public SyntheticMemory Memory { get; } = new();
    public ulong Count => 1UL << _countBits;
    public ulong Size => 1UL << _sizeBits;
    public int Wraps { get; private set; }
    public int Recycled { get; private set; }
    public IReadOnlyList<Entry> Live => _live;
    public bool ExportCallerId { get; init; } = true;

    public LocklessRingBuilder(int countBits, int sizeBits, ulong firstId = 0, ulong firstSeq = 0)
    {
        _countBits = countBits;
        _sizeBits = sizeBits;
        _nextId = _tailId = firstId & IdMask;
        _seq = firstSeq;
        _headLpos = _tailLpos = 0;
        Memory.Zero(DescsBase, (int)(Count * DescSize));
        Memory.Zero(InfosBase, (int)(Count * InfoSize));
        Memory.Zero(TextBase, (int)Size);
    }

    public Entry Add(string text, int level = 6, ulong ts = 0, uint caller = 1, int facility = 0, string subsystem = "", string device = "") =>
        Add(Encoding.UTF8.GetBytes(text), level, ts, caller, facility, subsystem, device);

    public Entry Add(byte[] text, int level = 6, ulong ts = 0, uint caller = 1, int facility = 0, string subsystem = "", string device = "")
    {
        ulong id = _nextId;
        // The descriptor slot of id - Count is reused: recycle the tail first.
        while (_live.Count > 0 && ((id - _tailId) & IdMask) >= Count) Recycle();
        if (_live.Count == 0) _tailId = id;

        ulong size = ((ulong)text.Length + 8 + 7) & ~7UL;
        if (size > Size / 2) throw new ArgumentException("record too large for this ring");
        ulong begin = _headLpos, next = begin + size;
        bool wrapped = (begin >> _sizeBits) != (next >> _sizeBits);
        if (wrapped) { next = ((next >> _sizeBits) << _sizeBits) + size; Wraps++; }
        while (_live.Count > 0 && next - _tailLpos > Size) Recycle();
        _headLpos = next;
        if (_live.Count == 0) _tailLpos = begin;

        ulong dataIndex = wrapped ? 0 : begin % Size;
        if (!wrapped || begin % Size + 8 <= Size) Memory.WriteU64(TextBase + begin % Size, id);
        Memory.WriteU64(TextBase + dataIndex, id);
        Memory.Write(TextBase + dataIndex + 8, text);

        var e = new Entry(id, _seq++, ts, level, facility, caller, text, subsystem, device, begin, next);
        WriteDesc(e, 2);
        WriteInfo(e);
        _live.Add(e);
        _nextId = (id + 1) & IdMask;
        return e;
    }

    private void Recycle()
    {
        var old = _live[0];
        _live.RemoveAt(0);
        WriteState(old.Id, 3);
        Recycled++;
        _tailLpos = old.Next;
        _tailId = (old.Id + 1) & IdMask;
    }

    public ulong DescAddress(ulong id) => DescsBase + (id & (Count - 1)) * DescSize;
    public ulong InfoAddress(ulong id) => InfosBase + (id & (Count - 1)) * InfoSize;

    public void WriteState(ulong id, ulong state) => Memory.WriteU64(DescAddress(id), (state << 62) | (id & IdMask));
    public void WriteLpos(ulong id, ulong begin, ulong next) { Memory.WriteU64(DescAddress(id) + 8, begin); Memory.WriteU64(DescAddress(id) + 16, next); }

    private void WriteDesc(Entry e, ulong state)
    {
        WriteState(e.Id, state);
        WriteLpos(e.Id, e.Begin, e.Next);
    }

    private void WriteInfo(Entry e)
    {
        ulong a = InfoAddress(e.Id);
        Memory.Zero(a, InfoSize);
        Memory.WriteU64(a, e.Seq);
        Memory.WriteU64(a + 8, e.Ts);
        Memory.WriteU16(a + 16, (ushort)e.Text.Length);
        Memory.WriteU8(a + 18, (byte)e.Facility);
        Memory.WriteU8(a + 19, (byte)((e.Level << 5) | 2));
        Memory.WriteU32(a + 20, e.Caller);
        Memory.Write(a + 24, Encoding.ASCII.GetBytes(e.Subsystem));
        Memory.Write(a + 24 + 16, Encoding.ASCII.GetBytes(e.Device));
    }

    /// <summary>Writes the prb variable and the printk_ringbuffer with the current head and tail.</summary>
    public SyntheticMemory Build(ulong? headId = null, ulong? tailId = null)
    {
        var m = Memory;
        m.WriteU64(PrbVariable, RingStruct);
        m.Zero(RingStruct, RingSize);
        m.WriteU32(RingStruct + 0, (uint)_countBits);
        m.WriteU64(RingStruct + 8, DescsBase);
        m.WriteU64(RingStruct + 16, InfosBase);
        m.WriteU64(RingStruct + 24, headId ?? (_live.Count > 0 ? _live[^1].Id : (_nextId - 1) & IdMask));
        m.WriteU64(RingStruct + 32, tailId ?? (_live.Count > 0 ? _live[0].Id : _nextId));
        m.WriteU32(RingStruct + TextRingOffset + 0, (uint)_sizeBits);
        m.WriteU64(RingStruct + TextRingOffset + 8, TextBase);
        m.WriteU64(RingStruct + TextRingOffset + 16, _headLpos);
        m.WriteU64(RingStruct + TextRingOffset + 24, _tailLpos);
        return m;
    }

    /// <summary>The VMCOREINFO lines a 6.1 x86_64 kernel writes for its printk ring.</summary>
    public VmcoreInfo VmcoreInfo(string? extra = null, params string[] omit)
    {
        var lines = new List<string>
        {
            "OSRELEASE=6.1.0-57-amd64", "PAGESIZE=4096",
            $"SYMBOL(prb)={PrbVariable:x}", $"SYMBOL(printk_rb_static)={RingStruct:x}", "SYMBOL(clear_seq)=ffffffff82a1c380",
            "SIZE(printk_ringbuffer)=88", "OFFSET(printk_ringbuffer.desc_ring)=0", "OFFSET(printk_ringbuffer.text_data_ring)=48",
            "OFFSET(printk_ringbuffer.fail)=80", "SIZE(prb_desc_ring)=48", "OFFSET(prb_desc_ring.count_bits)=0",
            "OFFSET(prb_desc_ring.descs)=8", "OFFSET(prb_desc_ring.infos)=16", "OFFSET(prb_desc_ring.head_id)=24",
            "OFFSET(prb_desc_ring.tail_id)=32", "SIZE(prb_desc)=24", "OFFSET(prb_desc.state_var)=0",
            "OFFSET(prb_desc.text_blk_lpos)=8", "SIZE(prb_data_blk_lpos)=16", "OFFSET(prb_data_blk_lpos.begin)=0",
            "OFFSET(prb_data_blk_lpos.next)=8", "SIZE(printk_info)=88", "OFFSET(printk_info.seq)=0",
            "OFFSET(printk_info.ts_nsec)=8", "OFFSET(printk_info.text_len)=16",
            ExportCallerId ? "OFFSET(printk_info.caller_id)=20" : "",
            "OFFSET(printk_info.dev_info)=24", "SIZE(dev_printk_info)=64", "OFFSET(dev_printk_info.subsystem)=0",
            "LENGTH(printk_info_subsystem)=16", "OFFSET(dev_printk_info.device)=16", "LENGTH(printk_info_device)=48",
            "SIZE(prb_data_ring)=32", "OFFSET(prb_data_ring.size_bits)=0", "OFFSET(prb_data_ring.data)=8",
            "OFFSET(prb_data_ring.head_lpos)=16", "OFFSET(prb_data_ring.tail_lpos)=24", "SIZE(atomic_long_t)=8",
            "OFFSET(atomic_long_t.counter)=0", "SIZE(latched_seq)=24", "OFFSET(latched_seq.val)=8",
        };
        lines.RemoveAll(l => l.Length == 0 || omit.Any(o => l.StartsWith(o, StringComparison.Ordinal)));
        if (extra is not null) lines.Add(extra);
        return new VmcoreInfo(string.Join('\n', lines) + "\n", "test");
    }
}
