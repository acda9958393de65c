using System.Text;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests.Printk;

/// <summary>
/// Builds the log_buf record buffer of Linux 3.5–5.9 in <see cref="SyntheticMemory"/> as the kernel's log_store()
/// does: struct printk_log headers (16 bytes, 20 with CONFIG_PRINTK_CALLER) followed by text and dictionary, padded
/// to 8 bytes; a zero-length header marks the end when the next record does not fit, and the oldest records are
/// dropped to make room. <see cref="Live"/> is what a reader must return.
/// </summary>
public sealed class LogBufBuilder
{
    public const ulong LogBufVar = 0xffffffff82400000, LogBufLenVar = 0xffffffff82400008;
    public const ulong FirstIdxVar = 0xffffffff82400010, NextIdxVar = 0xffffffff82400014;
    public const ulong Buffer = 0xffffffff82500000;

    public sealed record Entry(int Index, int Len, ulong Ts, int Level, byte[] Text, string Dict, uint Caller);

    private readonly List<Entry> _live = new();
    private readonly int _len;
    private readonly bool _caller;
    private int _next;

    public SyntheticMemory Memory { get; } = new();
    public int HeaderSize => _caller ? 20 : 16;
    public IReadOnlyList<Entry> Live => _live;
    public int Wraps { get; private set; }

    public LogBufBuilder(int length, bool callerId = false)
    {
        _len = length;
        _caller = callerId;
        Memory.Zero(Buffer, length);
    }

    public Entry Add(string text, int level = 6, ulong ts = 0, string dict = "", uint caller = 0)
    {
        var t = Encoding.UTF8.GetBytes(text);
        var d = Encoding.UTF8.GetBytes(dict);
        int size = (HeaderSize + t.Length + d.Length + 7) & ~7;
        if (size + HeaderSize > _len / 2) throw new ArgumentException("record too large");
        int at = _next;
        if (at + size + HeaderSize > _len)
        {
            Memory.Zero(Buffer + (ulong)at, HeaderSize); // the wrap marker: len = 0
            _live.RemoveAll(e => e.Index >= at);          // older records past the marker are given up
            at = 0;
            Wraps++;
        }
        // Drop the oldest records that the new one (plus room for a marker header) would overwrite.
        while (_live.Count > 0 && Overlaps(_live[0], at, size + HeaderSize)) _live.RemoveAt(0);
        ulong a = Buffer + (ulong)at;
        Memory.Zero(a, size);
        Memory.WriteU64(a, ts);
        Memory.WriteU16(a + 8, (ushort)size);
        Memory.WriteU16(a + 10, (ushort)t.Length);
        Memory.WriteU16(a + 12, (ushort)d.Length);
        Memory.WriteU8(a + 14, 0);
        Memory.WriteU8(a + 15, (byte)(level << 5));
        if (_caller) Memory.WriteU32(a + 16, caller);
        Memory.Write(a + (ulong)HeaderSize, t);
        Memory.Write(a + (ulong)HeaderSize + (ulong)t.Length, d);
        var e = new Entry(at, size, ts, level, t, dict, caller);
        _live.Add(e);
        _next = at + size;
        return e;
    }

    private static bool Overlaps(Entry e, int start, int length) => e.Index < start + length && start < e.Index + e.Len;

    public SyntheticMemory Build(int? first = null, int? next = null)
    {
        Memory.WriteU64(LogBufVar, Buffer);
        Memory.WriteU32(LogBufLenVar, (uint)_len);
        Memory.WriteU32(FirstIdxVar, (uint)(first ?? (_live.Count > 0 ? _live[0].Index : _next)));
        Memory.WriteU32(NextIdxVar, (uint)(next ?? _next));
        return Memory;
    }

    public VmcoreInfo VmcoreInfo() => new(string.Join('\n', new[]
    {
        "OSRELEASE=5.4.0", "PAGESIZE=4096",
        $"SYMBOL(log_buf)={LogBufVar:x}", $"SYMBOL(log_buf_len)={LogBufLenVar:x}",
        $"SYMBOL(log_first_idx)={FirstIdxVar:x}", "SYMBOL(clear_idx)=ffffffff82400018", $"SYMBOL(log_next_idx)={NextIdxVar:x}",
        $"SIZE(printk_log)={HeaderSize}", "OFFSET(printk_log.ts_nsec)=0", "OFFSET(printk_log.len)=8",
        "OFFSET(printk_log.text_len)=10", "OFFSET(printk_log.dict_len)=12",
        _caller ? "OFFSET(printk_log.caller_id)=16" : "",
    }.Where(l => l.Length > 0)) + "\n", "test");
}
