using Kdump.Engine.Linux.Stack;

namespace Kdump.Engine.Tests.Stack;

/// <summary>A fake kernel: words of memory, a text range, and ORC tables built from (ip, entry) lists.</summary>
internal sealed class FakeKernel : IStackMemory, IUnwindInfo
{
    public readonly Dictionary<ulong, ulong> Words = new();
    public OrcTable? Table;
    public ulong TextStart = 0xffffffff81000000, TextEnd = 0xffffffff82000000;
    public bool FramePointersOnly { get; set; }
    public readonly Dictionary<ulong, byte[]> Code = new();

    public bool TryReadU64(ulong address, out ulong value) => Words.TryGetValue(address, out value);
    public OrcEntry? FindOrc(ulong ip) => Table?.Find(ip);
    public bool IsText(ulong ip) => ip >= TextStart && ip < TextEnd;
    public ulong? FunctionStart(ulong ip) => IsText(ip) ? ip & ~0xfffUL : null;
    public bool TryReadCode(ulong address, Span<byte> bytes)
    {
        bytes.Clear();
        foreach (var (at, code) in Code)
            for (int i = 0; i < code.Length; i++)
                if (at + (ulong)i >= address && at + (ulong)i < address + (ulong)bytes.Length) bytes[(int)(at + (ulong)i - address)] = code[i];
        return IsText(address);
    }

    /// <summary>Builds the ORC table in the given on-disk format from (ip, entry) pairs.</summary>
    public void SetOrc(OrcFormat format, params (ulong Ip, OrcEntry Entry)[] entries)
    {
        const ulong ipTable = 0xffffffff82800000;
        var ips = new byte[entries.Length * 4];
        var ents = new byte[entries.Length * 6];
        for (int i = 0; i < entries.Length; i++)
        {
            BitConverter.TryWriteBytes(ips.AsSpan(i * 4), unchecked((int)(long)(entries[i].Ip - (ipTable + (ulong)(i * 4)))));
            BitConverter.TryWriteBytes(ents.AsSpan(i * 6), entries[i].Entry.SpOffset);
            BitConverter.TryWriteBytes(ents.AsSpan(i * 6 + 2), entries[i].Entry.BpOffset);
            BitConverter.TryWriteBytes(ents.AsSpan(i * 6 + 4), entries[i].Entry.Encode(format));
        }
        Table = OrcTable.Parse("test", ipTable, ips, ents, format, TextStart, TextEnd);
    }
}

public class SyntheticUnwindTests
{
    private const ulong Stack = 0xffffc90000010000, StackEnd = Stack + 0x4000;
    private const ulong F1 = 0xffffffff81001000, F2 = 0xffffffff81002000, F3 = 0xffffffff81003000, Entry = 0xffffffff81004000;
    private static readonly StackRange Task = new(Stack, StackEnd, "task");
    private static OrcEntry Call(short spOff) => new(spOff, 0, OrcRegister.Sp, OrcRegister.Undefined, OrcType.Call, false);
    private static readonly OrcEntry End = new(0, 0, OrcRegister.Undefined, OrcRegister.Undefined, OrcType.EndOfStack, false);
    private static readonly OrcEntry Regs = new(0, 0, OrcRegister.Sp, OrcRegister.Undefined, OrcType.Regs, true);

    private static FakeKernel ThreeFrames(OrcFormat format)
    {
        var k = new FakeKernel();
        // F1 has a 0x18-byte frame (CFA = sp + 0x20), F2 0x8 (CFA = sp + 0x10), F3 is the last (end of stack after its call site).
        k.SetOrc(format, (F1, Call(0x20)), (F2, Call(0x10)), (F3, Call(0x08)), (F3 + 0x40, End), (Entry, Regs));
        ulong sp = Stack + 0x3000;
        k.Words[sp + 0x18] = F2 + 0x15;          // return into F2
        k.Words[sp + 0x20 + 0x08] = F3 + 0x41;   // return into F3 after the call (end of stack entry)
        return k;
    }

    /// <summary>
    /// An ORC CALL step that reads a zero return address ends the trace before the end of the stack: that is said (a
    /// complete kernel stack ends on an END_OF_STACK entry or user registers); a frame-pointer chain ends on a zero
    /// silently, as the frame-pointer unwinder's bottom frame does.
    /// </summary>
    [Fact]
    public void AZeroReturnAddressBeforeTheEndOfTheStackIsReported()
    {
        var k = ThreeFrames(OrcFormat.V3);
        k.Words[Stack + 0x3000 + 0x20 + 0x08] = 0; // F2's caller slot holds 0 instead of a return into F3
        var w = new List<string>();
        var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 0x10, Stack + 0x3000, 0, true, Stack + 0x3000, null), w);
        Assert.Equal(new[] { F1 + 0x10, F2 + 0x15 }, frames.Select(f => f.Ip));
        Assert.Contains(w, x => x.Contains("is 0, before the end of the stack", StringComparison.Ordinal) && x.Contains($"0x{Stack + 0x3028:x}", StringComparison.Ordinal));

        // frame pointers only: a zero saved return address is the chain's normal end
        var fp = new FakeKernel { FramePointersOnly = true };
        ulong bp = Stack + 0x3100;
        fp.Words[bp] = Stack + 0x3200; fp.Words[bp + 8] = F2 + 0x15;
        fp.Words[Stack + 0x3200] = 0; fp.Words[Stack + 0x3208] = 0;
        var w2 = new List<string>();
        var f2 = new OrcUnwinder(fp, fp, new[] { Task }).Unwind(new UnwindStart(F1 + 0x10, Stack + 0x3000, bp, true, Stack + 0x3000, null), w2);
        Assert.Empty(w2);
        Assert.Equal(new[] { F1 + 0x10, F2 + 0x15 }, f2.Select(f => f.Ip));
    }

    [Theory]
    [InlineData(OrcFormat.V1)]
    [InlineData(OrcFormat.V2)]
    [InlineData(OrcFormat.V3)]
    public void UnwindsCallFramesToTheEndOfStackInEveryFormat(OrcFormat format)
    {
        var k = ThreeFrames(format);
        var w = new List<string>();
        var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 0x10, Stack + 0x3000, 0, true, Stack + 0x3000, null), w);
        Assert.Empty(w);
        Assert.Equal(new[] { F1 + 0x10, F2 + 0x15, F3 + 0x41 }, frames.Select(f => f.Ip));
        Assert.Equal(new[] { Stack + 0x3000, Stack + 0x3018, Stack + 0x3028 }, frames.Select(f => f.Sp));
    }

    [Theory]
    [InlineData(OrcFormat.V1)]
    [InlineData(OrcFormat.V2)]
    [InlineData(OrcFormat.V3)]
    public void EntryFlagsRoundTrip(OrcFormat format)
    {
        foreach (var e in new[] { Call(8), End, Regs, new OrcEntry(-8, 16, OrcRegister.SpIndirect, OrcRegister.PrevSp, OrcType.RegsPartial, true) })
        {
            var d = OrcEntry.Decode(e.SpOffset, e.BpOffset, e.Encode(format), format);
            Assert.Equal(e with { Signal = e.Signal || (format == OrcFormat.V1 && e.Type is OrcType.Regs or OrcType.RegsPartial) }, d);
        }
    }

    [Fact]
    public void SyscallEntryRegistersEndTheTraceAndAreAttached()
    {
        var k = new FakeKernel();
        k.SetOrc(OrcFormat.V1, (F1, Call(0x10)), (Entry, Regs), (Entry + 0x100, End));
        ulong sp = Stack + 0x3f00;
        k.Words[sp + 8] = Entry + 0x26;                       // return into the entry code
        ulong regs = sp + 0x10;                                // pt_regs right above
        for (int i = 0; i < 21; i++) k.Words[regs + (ulong)(i * 8)] = (ulong)i;
        k.Words[regs + 16 * 8] = 0x401000;                     // rip (user)
        k.Words[regs + 17 * 8] = 0x33;                         // cs: user mode
        k.Words[regs + 19 * 8] = 0x7ffc0000;                   // rsp (user)
        var w = new List<string>();
        var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 4, sp, 0, true, sp, null), w);
        Assert.Empty(w);
        Assert.Equal(2, frames.Count);
        Assert.Equal(regs, frames[1].RegistersAddress);
        Assert.Equal(0x401000UL, frames[1].Registers!["rip"]);
        Assert.Equal(10UL, frames[1].Registers!["rax"]);
    }

    [Fact]
    public void CyclicStackEndsWithAWarning()
    {
        var k = new FakeKernel();
        k.SetOrc(OrcFormat.V3, (F1, new OrcEntry(0x10, -0x10, OrcRegister.Bp, OrcRegister.PrevSp, OrcType.Call, false)));
        ulong bp = Stack + 0x100;
        k.Words[bp] = bp;              // saved bp points at itself
        k.Words[bp + 8] = F1 + 0x20;   // returns into the same function forever
        var w = new List<string>();
        var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 4, Stack + 0xf0, bp, true, Stack + 0xf0, null), w);
        Assert.True(frames.Count < 5);
        Assert.Contains(w, x => x.Contains("does not grow"));
    }

    [Fact]
    public void ReturnAddressOutsideTextEndsTheTrace()
    {
        var k = new FakeKernel();
        k.SetOrc(OrcFormat.V3, (F1, Call(0x10)));
        k.Words[Stack + 0x108] = 0xdeadbeef;
        var w = new List<string>();
        var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 4, Stack + 0x100, 0, true, Stack + 0x100, null), w);
        Assert.Equal(2, frames.Count);
        Assert.Contains(w, x => x.Contains("not kernel text"));
    }

    [Fact]
    public void FrameOffTheStackEndsTheTrace()
    {
        var k = new FakeKernel();
        k.SetOrc(OrcFormat.V3, (F1, Call(0x7000)));
        var w = new List<string>();
        var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 4, Stack + 0x100, 0, true, Stack + 0x100, null), w);
        Assert.Single(frames);
        Assert.Single(w);
    }

    [Fact]
    public void GarbageStacksAlwaysTerminate()
    {
        var rng = new Random(1234);
        for (int round = 0; round < 50; round++)
        {
            var k = new FakeKernel();
            var entries = new List<(ulong, OrcEntry)>();
            for (ulong ip = F1; ip < F1 + 0x10000; ip += (ulong)rng.Next(1, 0x400))
                entries.Add((ip, new OrcEntry((short)rng.Next(-64, 256), (short)rng.Next(-64, 64), (OrcRegister)rng.Next(0, 11), (OrcRegister)rng.Next(0, 6), (OrcType)rng.Next(0, 6), rng.Next(2) == 0)));
            k.SetOrc(OrcFormat.V3, entries.ToArray());
            for (ulong a = Stack; a < StackEnd; a += 8)
                k.Words[a] = rng.Next(3) switch { 0 => F1 + (ulong)rng.Next(0, 0x10000), 1 => Stack + (ulong)rng.Next(0, 0x4000), _ => (ulong)rng.NextInt64() };
            var w = new List<string>();
            var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 8, Stack + 0x80, Stack + 0x200, true, Stack + 0x80, null), w);
            Assert.InRange(frames.Count, 1, OrcUnwinder.MaxFrames);
        }
    }

    [Fact]
    public void NoOrcDataFallsBackToFramePointers()
    {
        var k = new FakeKernel { FramePointersOnly = true };
        ulong bp1 = Stack + 0x200, bp2 = Stack + 0x300;
        k.Words[bp1] = bp2; k.Words[bp1 + 8] = F2 + 1;
        k.Words[bp2] = 0; k.Words[bp2 + 8] = 0;
        var w = new List<string>();
        var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 4, Stack + 0x1f0, bp1, true, Stack + 0x1f0, null), w);
        Assert.Empty(w);
        Assert.Equal(new[] { F1 + 4, F2 + 1 }, frames.Select(f => f.Ip));
        Assert.Equal(Stack + 0x208, frames[1].Sp);
    }

    [Fact]
    public void UnsortedTablesAreSortedAndTerminatorsLoseToRealEntries()
    {
        var k = new FakeKernel();
        var undefined = new OrcEntry(0, 0, OrcRegister.Undefined, OrcRegister.Undefined, OrcType.Undefined, false);
        k.SetOrc(OrcFormat.V3, (F3, Call(0x18)), (F1, Call(0x08)), (F2, undefined), (F2, Call(0x10)));
        Assert.Equal(0x08, k.Table!.Find(F1 + 5)!.Value.SpOffset);
        Assert.Equal(0x10, k.Table.Find(F2)!.Value.SpOffset);
        Assert.Equal(0x18, k.Table.Find(F3 + 0x100)!.Value.SpOffset);
        Assert.Null(k.Table.Find(F1 - 1));
    }

    [Fact]
    public void CorruptTableSizesAreRejected()
    {
        var ex = Assert.Throws<KdumpException>(() => OrcTable.Parse("x", 0, new byte[8], new byte[6], OrcFormat.V3));
        Assert.Equal("OrcTableCorrupt", ex.ErrorId);
    }

    [Fact]
    public void RegistersWithoutUnwindDataScanForTheCaller()
    {
        var k = new FakeKernel();
        k.SetOrc(OrcFormat.V3, (F1, new OrcEntry(0, 0, OrcRegister.Undefined, OrcRegister.Undefined, OrcType.Undefined, false)), (F2, Call(0x10)), (F2 + 0x800, End));
        ulong sp = Stack + 0x400;
        k.Words[sp + 0x10] = F3 + 0x20;          // stale text word, not after a call to F1
        k.Words[sp + 0x28] = F2 + 0x35;          // after "call F1"
        var rel = unchecked((int)(long)(F1 - (F2 + 0x35)));
        k.Code[F2 + 0x30] = new byte[] { 0xE8 }.Concat(BitConverter.GetBytes(rel)).ToArray();
        k.Words[sp + 0x38] = F2 + 0x801;         // F2's caller: end of stack
        var w = new List<string>();
        var frames = new OrcUnwinder(k, k, new[] { Task }).Unwind(new UnwindStart(F1 + 0x10, sp, 0, true, sp, new Dictionary<string, ulong>()), w);
        Assert.Empty(w);
        Assert.Equal(new[] { F1 + 0x10, F2 + 0x35, F2 + 0x801 }, frames.Select(f => f.Ip));
        Assert.True(frames[1].Guessed);
    }
}
