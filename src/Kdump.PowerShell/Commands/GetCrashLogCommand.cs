using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Kdump.Engine;
using Kdump.Engine.Linux.Printk;
using Kdump.Engine.Program;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashLog: the kernel log (crash's <c>log</c>, <c>makedumpfile --dump-dmesg</c>, vmcore-dmesg) of a dump, read
/// from the printk ring buffer with VMCOREINFO alone (no vmlinux, no BTF needed). Records come oldest first; each
/// prints (ToString, default view, -Raw) exactly as makedumpfile --dump-dmesg prints it. A damaged record is a
/// warning with an id (PrintkDataBlockInvalid ...) and the rest of the log still comes out.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashLog")]
[OutputType(typeof(CrashLogRecord))]
[OutputType(typeof(string))]
public sealed class GetCrashLogCommand : VmcoreCommandBase
{
    /// <summary>Only the last N records (after -Level filtering), like dmesg | tail -n N.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Tail { get; set; }

    /// <summary>
    /// Only records of these levels (dmesg -l): names emerg, alert, crit, err, warn, notice, info, debug or 0-7, each
    /// exactly that level; "err+" adds every more severe level (emerg..err), "+notice" every less severe one.
    /// </summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(LevelCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Level { get; set; }

    /// <summary>Emit the lines as strings, exactly as makedumpfile --dump-dmesg writes them (one string per record).</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    /// <summary>Print the caller id after the timestamp ("[    T123] "), as makedumpfile 1.7.6 does on kernels that record it.</summary>
    [Parameter]
    public SwitchParameter CallerId { get; set; }

    protected override void ProcessRecord()
    {
        var vmcore = ResolveVmcore();
        byte mask = 0xff;
        if (Level is { Length: > 0 })
        {
            try { mask = CrashLogLevel.ParseFilter(Level); }
            catch (KdumpException ex) { ThrowKdumpError(ex, Level); }
        }
        if (vmcore.VmcoreInfo is not { } vmcoreInfo)
        {
            WriteKdumpError(new KdumpException("VmcoreInfoMissing", KdumpErrorKind.NotFound,
                $"The dump '{vmcore.Path}' carries no VMCOREINFO, which locates the kernel log.", vmcore.Path), vmcore);
            return;
        }

        var program = vmcore.Kernel; // shared per dump: its translation caches serve every later call
        var format = CallerId ? CrashLogFormat.WithCallerId : CrashLogFormat.Default;
        var tail = Tail > 0 ? new Queue<CrashLogRecord>(Math.Min(Tail, 4096)) : null;
        TryEngine(() =>
        {
            foreach (var record in PrintkLog.EnumerateRecords(vmcoreInfo, program.ReadKernel, Engine, format))
            {
                if ((mask & (1 << (record.Level & 7))) == 0) continue;
                if (tail is null) { Emit(record); continue; }
                if (tail.Count == Tail) tail.Dequeue();
                tail.Enqueue(record);
            }
        }, vmcore);
        if (tail is not null) foreach (var record in tail) Emit(record);
    }

    private void Emit(CrashLogRecord record)
    {
        if (Raw) WriteObject(record.ToString());
        else WriteObject(record);
    }

    /// <summary>Completes -Level with the level names, each also as "name+" (that level and more severe).</summary>
    public sealed class LevelCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = wordToComplete.Trim('\'', '"');
            var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
            for (int i = 0; i < CrashLogLevel.Names.Count; i++)
            {
                string name = CrashLogLevel.Names[i];
                if (pattern.IsMatch(name))
                    yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, $"level {i}: {name} only");
            }
            for (int i = 0; i < CrashLogLevel.Names.Count; i++)
            {
                string name = CrashLogLevel.Names[i] + "+";
                if (pattern.IsMatch(name) && word.Length > 0)
                    yield return new CompletionResult($"'{name}'", name, CompletionResultType.ParameterValue, $"levels 0-{i}: {CrashLogLevel.Names[i]} and more severe");
            }
        }
    }
}
