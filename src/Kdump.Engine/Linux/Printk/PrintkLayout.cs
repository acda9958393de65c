using Kdump.Engine.Dump;

namespace Kdump.Engine.Linux.Printk;

/// <summary>
/// Where the lockless printk ring buffer's fields are, from VMCOREINFO alone (Linux 5.10+ exports every offset:
/// SYMBOL(prb), SIZE(printk_ringbuffer), OFFSET(prb_desc_ring.count_bits) ...).
/// </summary>
internal sealed class LocklessLayout
{
    public ulong PrbSymbol;
    public int RingbufferSize;
    public int DescRing, TextDataRing;
    public int CountBits, Descs, Infos, HeadId, TailId;
    public int DescSize, StateVar, TextBlkLpos, LposBegin, LposNext;
    public int InfoSize, Seq, TsNsec, TextLen;
    public int? CallerId, DevInfo;
    public int Subsystem, Device, SubsystemLength, DeviceLength;
    public int SizeBits, Data;
    public int Counter;

    /// <summary>Facility and the flags:5/level:3 byte follow text_len (u16) in struct printk_info.</summary>
    public int Facility => TextLen + 2;
    public int FlagsLevel => TextLen + 3;

    public static LocklessLayout? TryCreate(VmcoreInfo vi)
    {
        if (!vi.TryGetSymbol("prb", out var prb)) return null;
        var r = new Reader(vi);
        var l = new LocklessLayout
        {
            PrbSymbol = prb,
            RingbufferSize = r.Size("printk_ringbuffer"),
            DescRing = r.Offset("printk_ringbuffer.desc_ring"),
            TextDataRing = r.Offset("printk_ringbuffer.text_data_ring"),
            CountBits = r.Offset("prb_desc_ring.count_bits"),
            Descs = r.Offset("prb_desc_ring.descs"),
            Infos = r.Offset("prb_desc_ring.infos"),
            HeadId = r.Offset("prb_desc_ring.head_id"),
            TailId = r.Offset("prb_desc_ring.tail_id"),
            DescSize = r.Size("prb_desc"),
            StateVar = r.Offset("prb_desc.state_var"),
            TextBlkLpos = r.Offset("prb_desc.text_blk_lpos"),
            LposBegin = r.Offset("prb_data_blk_lpos.begin"),
            LposNext = r.Offset("prb_data_blk_lpos.next"),
            InfoSize = r.Size("printk_info"),
            Seq = r.Offset("printk_info.seq"),
            TsNsec = r.Offset("printk_info.ts_nsec"),
            TextLen = r.Offset("printk_info.text_len"),
            CallerId = r.OptionalOffset("printk_info.caller_id"),
            DevInfo = r.OptionalOffset("printk_info.dev_info"),
            Subsystem = r.OptionalOffset("dev_printk_info.subsystem") ?? 0,
            Device = r.OptionalOffset("dev_printk_info.device") ?? 16,
            SubsystemLength = r.OptionalLength("printk_info_subsystem") ?? 16,
            DeviceLength = r.OptionalLength("printk_info_device") ?? 48,
            SizeBits = r.Offset("prb_data_ring.size_bits"),
            Data = r.Offset("prb_data_ring.data"),
            Counter = r.OptionalOffset("atomic_long_t.counter") ?? 0,
        };
        r.ThrowIfMissing("the lockless printk ring buffer (SYMBOL(prb))");

        // Every field must lie inside its structure; a VMCOREINFO that says otherwise is not usable.
        Check(l.RingbufferSize is > 0 and <= 4096, "SIZE(printk_ringbuffer)", l.RingbufferSize);
        Check(l.DescSize is >= 16 and <= 4096, "SIZE(prb_desc)", l.DescSize);
        Check(l.InfoSize is >= 16 and <= 4096, "SIZE(printk_info)", l.InfoSize);
        int descRingEnd = l.DescRing + Math.Max(Math.Max(l.CountBits + 4, l.Descs + 8), Math.Max(l.Infos + 8, Math.Max(l.HeadId, l.TailId) + l.Counter + 8));
        Check(descRingEnd <= l.RingbufferSize, "OFFSET(printk_ringbuffer.desc_ring)", l.DescRing);
        Check(l.TextDataRing + Math.Max(l.SizeBits + 4, l.Data + 8) <= l.RingbufferSize, "OFFSET(printk_ringbuffer.text_data_ring)", l.TextDataRing);
        Check(l.StateVar + l.Counter + 8 <= l.DescSize, "OFFSET(prb_desc.state_var)", l.StateVar);
        Check(l.TextBlkLpos + Math.Max(l.LposBegin, l.LposNext) + 8 <= l.DescSize, "OFFSET(prb_desc.text_blk_lpos)", l.TextBlkLpos);
        Check(l.Seq + 8 <= l.InfoSize, "OFFSET(printk_info.seq)", l.Seq);
        Check(l.TsNsec + 8 <= l.InfoSize, "OFFSET(printk_info.ts_nsec)", l.TsNsec);
        Check(l.TextLen + 4 <= l.InfoSize, "OFFSET(printk_info.text_len)", l.TextLen);
        if (l.CallerId is { } c && c + 4 > l.InfoSize) l.CallerId = null;
        if (l.DevInfo is { } d &&
            (d + l.Subsystem + l.SubsystemLength > l.InfoSize || d + l.Device + l.DeviceLength > l.InfoSize ||
             l.SubsystemLength is < 0 or > 256 || l.DeviceLength is < 0 or > 256))
            l.DevInfo = null;
        return l;
    }

    internal static void Check(bool ok, string key, long value)
    {
        if (!ok)
            throw new KdumpException("PrintkLayoutInvalid", KdumpErrorKind.InvalidData,
                $"VMCOREINFO's {key}={value} does not fit the printk structures; the kernel log cannot be read.", key);
    }

    /// <summary>Reads SIZE/OFFSET/LENGTH keys and collects the missing ones for one error message.</summary>
    internal sealed class Reader
    {
        private readonly VmcoreInfo _vi;
        private readonly List<string> _missing = new();
        public Reader(VmcoreInfo vi) => _vi = vi;

        public int Size(string name) => Take(_vi.TryGetSize(name, out var v), v, $"SIZE({name})");
        public int Offset(string name) => Take(_vi.TryGetOffset(name, out var v), v, $"OFFSET({name})");
        public int? OptionalOffset(string name) => _vi.TryGetOffset(name, out var v) && v < 1 << 20 ? (int)v : null;
        public int? OptionalLength(string name) => _vi.TryGetLength(name, out var v) && v < 1 << 20 ? (int)v : null;

        private int Take(bool found, ulong value, string key)
        {
            if (!found) { _missing.Add(key); return 0; }
            if (value >= 1 << 20) { Check(false, key, (long)Math.Min(value, long.MaxValue)); }
            return (int)value;
        }

        public void AddMissing(string key) => _missing.Add(key);

        public void ThrowIfMissing(string what)
        {
            if (_missing.Count > 0)
                throw new KdumpException("PrintkLayoutMissing", KdumpErrorKind.NotFound,
                    $"VMCOREINFO names {what} but lacks {string.Join(", ", _missing)}; the kernel log cannot be read.",
                    _missing[0]);
        }
    }
}

/// <summary>
/// Where the log_buf record buffer of Linux 3.5–5.9 is (SYMBOL(log_buf), SYMBOL(log_buf_len), SYMBOL(log_first_idx),
/// SYMBOL(log_next_idx), SIZE(printk_log), OFFSET(printk_log.ts_nsec/len/text_len/dict_len[/caller_id])).
/// </summary>
internal sealed class LogBufLayout
{
    public ulong LogBufSymbol, LogBufLenSymbol, FirstIdxSymbol, NextIdxSymbol;
    public int HeaderSize, TsNsec, Len, TextLen, DictLen;
    public int? CallerId;

    /// <summary>facility (u8) and the flags:5/level:3 byte follow dict_len (u16) in struct printk_log.</summary>
    public int Facility => DictLen + 2;
    public int FlagsLevel => DictLen + 3;

    public static LogBufLayout? TryCreate(VmcoreInfo vi)
    {
        if (!vi.TryGetSymbol("log_buf", out var logBuf)) return null;
        var r = new LocklessLayout.Reader(vi);
        ulong Sym(string name)
        {
            if (vi.TryGetSymbol(name, out var a)) return a;
            r.AddMissing($"SYMBOL({name})");
            return 0;
        }
        var l = new LogBufLayout
        {
            LogBufSymbol = logBuf,
            LogBufLenSymbol = Sym("log_buf_len"),
            FirstIdxSymbol = Sym("log_first_idx"),
            NextIdxSymbol = Sym("log_next_idx"),
            HeaderSize = r.Size("printk_log"),
            TsNsec = r.Offset("printk_log.ts_nsec"),
            Len = r.Offset("printk_log.len"),
            TextLen = r.Offset("printk_log.text_len"),
            CallerId = r.OptionalOffset("printk_log.caller_id"),
        };
        // dict_len is exported by every kernel with this layout; if not, it follows text_len.
        l.DictLen = r.OptionalOffset("printk_log.dict_len") ?? l.TextLen + 2;
        r.ThrowIfMissing("the printk log_buf (SYMBOL(log_buf))");
        LocklessLayout.Check(l.HeaderSize is >= 16 and <= 256, "SIZE(printk_log)", l.HeaderSize);
        LocklessLayout.Check(l.TsNsec + 8 <= l.HeaderSize, "OFFSET(printk_log.ts_nsec)", l.TsNsec);
        LocklessLayout.Check(l.Len + 2 <= l.HeaderSize, "OFFSET(printk_log.len)", l.Len);
        LocklessLayout.Check(l.TextLen + 2 <= l.HeaderSize, "OFFSET(printk_log.text_len)", l.TextLen);
        LocklessLayout.Check(l.DictLen + 4 <= l.HeaderSize, "OFFSET(printk_log.dict_len)", l.DictLen);
        if (l.CallerId is { } c && c + 4 > l.HeaderSize) l.CallerId = null;
        return l;
    }
}
