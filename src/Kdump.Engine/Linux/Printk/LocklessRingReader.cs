using Kdump.Engine.Dump;

namespace Kdump.Engine.Linux.Printk;

/// <summary>
/// Reads the lockless printk ring buffer (Linux 5.10+). The descriptor ring holds 2^count_bits descriptors
/// (prb_desc: state_var = 2 state bits over a 62-bit id, and the text block's logical positions) beside as many
/// printk_info; the text data ring of 2^size_bits bytes holds blocks of an 8-byte id followed by the text, a block
/// that would cross the ring's end being stored at its start. Records run from tail_id to head_id inclusive; only
/// committed and finalized descriptors whose id matches are records (reserved ones are being written, reusable ones
/// were recycled). The walk visits at most 2^count_bits descriptors, so no value in the dump can make it loop.
/// </summary>
internal static class LocklessRingReader
{
    private const int StateShift = 62;
    private const ulong IdMask = (1UL << StateShift) - 1;
    private const ulong StateCommitted = 1, StateFinalized = 2;

    public static IEnumerable<CrashLogRecord> Read(LocklessLayout l, ReadVirtualMemory read, PrintkContext ctx)
    {
        // SYMBOL(prb) is the variable `struct printk_ringbuffer *prb`; it points at printk_rb_static or, after
        // log_buf_len= grew the log, at printk_rb_dynamic.
        Span<byte> word = stackalloc byte[8];
        read(l.PrbSymbol, word);
        ulong prbAddress = BitConverter.ToUInt64(word);
        var prb = GuardedBuffer.Read(read, prbAddress, l.RingbufferSize, ctx.Cancellation);
        if (prb.FaultIn(0, prb.Length) is { } fault)
            throw new KdumpException("PrintkRingUnreadable", fault.Kind,
                $"The printk ring buffer structure at 0x{prbAddress:x} (prb) cannot be read: {fault.Message}", prbAddress, fault);

        int dr = l.DescRing, tr = l.TextDataRing;
        uint countBits = prb.U32(dr + l.CountBits);
        uint sizeBits = prb.U32(tr + l.SizeBits);
        ulong descsAddr = prb.U64(dr + l.Descs), infosAddr = prb.U64(dr + l.Infos), dataAddr = prb.U64(tr + l.Data);
        ulong headId = prb.U64(dr + l.HeadId + l.Counter) & IdMask;
        ulong tailId = prb.U64(dr + l.TailId + l.Counter) & IdMask;

        if (countBits > 31 || (1UL << (int)countBits) > PrintkLimits.MaxDescriptors)
            throw new KdumpException("PrintkRingTooLarge", KdumpErrorKind.LimitExceeded,
                $"The printk descriptor ring at 0x{prbAddress:x} claims 2^{countBits} descriptors; at most {PrintkLimits.MaxDescriptors} are read.", countBits);
        if (sizeBits > 31 || (1UL << (int)sizeBits) > PrintkLimits.MaxTextBytes || sizeBits < 4)
            throw new KdumpException("PrintkRingTooLarge", sizeBits < 4 ? KdumpErrorKind.InvalidData : KdumpErrorKind.LimitExceeded,
                $"The printk text ring at 0x{prbAddress:x} claims 2^{sizeBits} bytes; 2^4 to {PrintkLimits.MaxTextBytes} bytes are read.", sizeBits);

        ulong count = 1UL << (int)countBits;
        int textSize = 1 << (int)sizeBits;
        ctx.Verbose($"printk ring at 0x{prbAddress:x}: {count} descriptors at 0x{descsAddr:x}, infos at 0x{infosAddr:x}, " +
                    $"{textSize} text bytes at 0x{dataAddr:x}, tail id {tailId}, head id {headId}.");

        var descs = ReadArray(read, descsAddr, count * (ulong)l.DescSize, "descriptor", ctx);
        var infos = ReadArray(read, infosAddr, count * (ulong)l.InfoSize, "info", ctx);
        var text = ReadArray(read, dataAddr, (ulong)textSize, "text", ctx);

        ulong span = (headId - tailId) & IdMask;
        if (span >= count)
        {
            ctx.Warn("PrintkRingIdsInvalid",
                $"The printk ring's tail id {tailId} and head id {headId} are {span} apart, more than its {count} descriptors; " +
                $"only the last {count} descriptors are read.", headId);
            tailId = (headId - (count - 1)) & IdMask;
        }

        var skipped = new SkipCounts();
        for (ulong id = tailId, n = 0; ; id = (id + 1) & IdMask, n++)
        {
            if ((n & 0xfff) == 0) ctx.Cancellation.ThrowIfCancellationRequested();
            var rec = ReadRecord(l, id, count, descs, infos, text, ctx, skipped);
            if (rec is not null) yield return rec;
            if (id == headId) break;
        }
        if (skipped.Any)
            ctx.Verbose($"printk ring: skipped {skipped.NotCommitted} descriptors being written or recycled, {skipped.Mismatch} whose id did not match, {skipped.DataLess} without text.");
        ctx.Flush();
    }

    private sealed class SkipCounts
    {
        public int NotCommitted, Mismatch, DataLess;
        public bool Any => NotCommitted + Mismatch + DataLess > 0;
    }

    private static GuardedBuffer ReadArray(ReadVirtualMemory read, ulong address, ulong length, string what, PrintkContext ctx)
    {
        // Callers bound the count and element sizes: length stays below 2^23 * 4096.
        if (length > int.MaxValue)
            throw new KdumpException("PrintkRingTooLarge", KdumpErrorKind.LimitExceeded,
                $"The printk {what} array at 0x{address:x} would be {length} bytes.", address);
        var buf = GuardedBuffer.Read(read, address, (int)length, ctx.Cancellation);
        if (buf.AllFaulted && buf.FaultIn(0, buf.Length) is { } fault)
            throw new KdumpException("PrintkRingUnreadable", fault.Kind,
                $"The printk {what} array at 0x{address:x} ({length} bytes) cannot be read: {fault.Message}", address, fault);
        if (buf.FaultedPages > 0)
            ctx.Warn("PrintkRingPartlyUnreadable",
                $"{buf.FaultedPages} pages of the printk {what} array at 0x{address:x} cannot be read; records stored there are skipped.", address);
        return buf;
    }

    private static CrashLogRecord? ReadRecord(LocklessLayout l, ulong id, ulong count, GuardedBuffer descs, GuardedBuffer infos,
        GuardedBuffer text, PrintkContext ctx, SkipCounts skipped)
    {
        int slot = (int)(id & (count - 1));
        int d = slot * l.DescSize;
        if (descs.FaultIn(d, l.DescSize) is { } dfault)
        {
            ctx.Warn("PrintkDescriptorUnreadable", $"Descriptor {id} (slot {slot}) cannot be read: {dfault.Message}", id);
            return null;
        }
        ulong stateVar = descs.U64(d + l.StateVar + l.Counter);
        if ((stateVar & IdMask) != id) { skipped.Mismatch++; return null; }
        ulong state = stateVar >> StateShift;
        if (state != StateCommitted && state != StateFinalized) { skipped.NotCommitted++; return null; }

        ulong size = (ulong)text.Length;
        ulong beginLpos = descs.U64(d + l.TextBlkLpos + l.LposBegin);
        ulong nextLpos = descs.U64(d + l.TextBlkLpos + l.LposNext);
        // Data-less records (an empty line: both positions 0x3; a failed reservation: 0x1) have no text block.
        if (beginLpos == nextLpos || ((beginLpos & nextLpos & 1) != 0)) { skipped.DataLess++; return null; }

        // A block spans less than the whole ring (one that would cross the ring's end is stored at its start) and
        // starts and ends on 8-byte boundaries.
        if (nextLpos - beginLpos >= size || ((beginLpos | nextLpos) & 7) != 0)
        {
            ctx.Warn("PrintkDataBlockInvalid",
                $"Descriptor {id} has text block positions 0x{beginLpos:x}..0x{nextLpos:x}, which do not fit the {size}-byte text ring.", id);
            return null;
        }
        ulong begin = beginLpos % size, next = nextLpos % size;
        if (begin > next) begin = 0;
        if (next - begin < 8)
        {
            ctx.Warn("PrintkDataBlockInvalid", $"Descriptor {id}'s text block at 0x{begin:x}..0x{next:x} is too short to hold its id.", id);
            return null;
        }

        int inf = slot * l.InfoSize;
        if (infos.FaultIn(inf, l.InfoSize) is { } ifault)
        {
            ctx.Warn("PrintkDescriptorUnreadable", $"The printk_info of descriptor {id} (slot {slot}) cannot be read: {ifault.Message}", id);
            return null;
        }
        ulong blockStart = begin + 8;
        int textLen = infos.U16(inf + l.TextLen);
        if ((ulong)textLen > next - blockStart)
        {
            // makedumpfile prints what the block holds; so do we, and say so.
            ctx.Warn("PrintkTextTruncated",
                $"Record {infos.U64(inf + l.Seq)} (descriptor {id}) says {textLen} text bytes but its block holds {next - blockStart}.", id);
            textLen = (int)(next - blockStart);
        }
        if (text.FaultIn((int)begin, (int)(blockStart - begin) + textLen) is { } tfault)
        {
            ctx.Warn("PrintkTextUnreadable", $"The text of descriptor {id} cannot be read: {tfault.Message}", id);
            return null;
        }
        ulong blockId = text.U64((int)begin);
        if (blockId != id)
            ctx.Warn("PrintkDataBlockMismatch",
                $"Descriptor {id}'s text block at 0x{begin:x} carries id {blockId}; its text may belong to another record.", id);

        byte flagsLevel = infos.U8(inf + l.FlagsLevel);
        uint? caller = l.CallerId is { } co ? infos.U32(inf + co) : null;
        return new CrashLogRecord(
            PrintkLayoutKind.Lockless,
            sequence: infos.U64(inf + l.Seq),
            timestampNanoseconds: infos.U64(inf + l.TsNsec),
            level: flagsLevel >> 5,
            facility: infos.U8(inf + l.Facility),
            flags: flagsLevel & 0x1f,
            callerId: caller,
            text: text.Span.Slice((int)blockStart, textLen).ToArray(),
            deviceInfo: l.DevInfo is { } di ? ReadDeviceInfo(infos, inf + di, l) : null,
            format: ctx.Format);
    }

    private static CrashLogDeviceInfo? ReadDeviceInfo(GuardedBuffer infos, int at, LocklessLayout l)
    {
        string subsystem = CString(infos.Span.Slice(at + l.Subsystem, l.SubsystemLength));
        string device = CString(infos.Span.Slice(at + l.Device, l.DeviceLength));
        return subsystem.Length == 0 && device.Length == 0 ? null : new CrashLogDeviceInfo(subsystem, device);
    }

    internal static string CString(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(nul < 0 ? bytes : bytes[..nul]);
    }
}
