BeforeDiscovery {
    # -Skip conditions are evaluated while Pester discovers the tests, before BeforeAll runs.
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($HaveSample) { $script:V = Open-Vmcore (Join-Path $SamplesDir 'vmcore.kdump') }
    $script:Crash = if ($HaveSample) {
        Get-Content (Join-Path $SamplesDir 'crash/kmem-i.txt') | Where-Object { $_ -match '^\s*([A-Z][A-Z ]*[A-Z])\s+(\d+)\s+(\d+(?:\.\d)?(?: [KMG]B)?)\s+(.*?)\s*$' } | ForEach-Object {
            [pscustomobject]@{ Name = $Matches[1]; Pages = [uint64]$Matches[2]; Size = $Matches[3]; Pct = $Matches[4] }
        }
    }
}
AfterAll { if ($V) { $V | Close-Vmcore } }

Describe 'Get-CrashMemoryInfo' -Skip:(-not $HaveSample) {
    It 'gives crash''s kmem -i line for line' {
        $ours = Get-CrashMemoryInfo
        $ours.Name | Should -Be $Crash.Name
        for ($i = 0; $i -lt $Crash.Count; $i++) {
            $ours[$i].Pages | Should -Be $Crash[$i].Pages -Because $Crash[$i].Name
            $ours[$i].Size | Should -Be $Crash[$i].Size -Because $Crash[$i].Name
            $ours[$i].PercentText | Should -Be $Crash[$i].Pct -Because $Crash[$i].Name
        }
    }
    It 'agrees with the guest''s MemTotal and SwapTotal' {
        $mi = (Get-TestManifest $SamplesDir).truth.meminfoKiB
        (Get-CrashMemoryInfo 'TOTAL MEM').Bytes / 1024 | Should -Be $mi.memtotal
        (Get-CrashMemoryInfo 'TOTAL SWAP').Bytes / 1024 | Should -Be $mi.swaptotal
    }
    It 'filters with wildcards and completes names' {
        (Get-CrashMemoryInfo 'SWAP*').Name | Should -Be @('SWAP USED', 'SWAP FREE')
        (TabExpansion2 'Get-CrashMemoryInfo TOTAL' 25).CompletionMatches.CompletionText | Should -Contain "'TOTAL MEM'"
    }
}
